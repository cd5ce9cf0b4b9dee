package io.junction.server.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import java.util.Map;

/**
 * Netty's aggregator, answering a request over the size cap as the REST API answers any refusal: 413 with
 * {@code {"error": ...}} saying the cap and the option that sets it (Netty's own answer has no body at all). The
 * connection is closed after it, since the rest of the body may still be on its way: in stages ({@link StagedClose}),
 * so that the client reads the answer.
 */
final class RequestAggregator extends HttpObjectAggregator {
  private final int maxRequestBytes;

  RequestAggregator(int maxRequestBytes) {
    super(maxRequestBytes);
    this.maxRequestBytes = maxRequestBytes;
  }

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) throws Exception {
    if (!(oversized instanceof HttpRequest request)) {
      super.handleOversizedMessage(ctx, oversized);
      return;
    }
    HttpResponses.error(ctx, false, tooLarge(request), Map.of());
  }

  /**
   * A request that says {@code Expect: 100-continue} and a length over the cap is refused before its body is sent,
   * and one expecting anything else is refused outright; both in the REST API's error form (Netty's own answers have
   * no body). The connection stays open: the client sends no body after a refusal.
   */
  @Override
  protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
    String expectation = start.headers().get(HttpHeaderNames.EXPECT); // Netty takes it off the request
    Object answer = super.newContinueResponse(start, maxContentLength, pipeline);
    if (!(answer instanceof FullHttpResponse refusal) || refusal.status().code() < 400
        || !(start instanceof HttpRequest request)) {
      return answer;
    }
    HttpResponseStatus status = refusal.status();
    refusal.release();
    HttpErrors.Failure failure = status.equals(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE) ? tooLarge(request)
        : new HttpErrors.Failure(status, "Expect: " + HttpErrors.bounded(expectation)
            + " is not supported; send 100-continue or nothing");
    return HttpResponses.response(true, failure.status(), HttpResponses.JSON, HttpResponses.errorBody(failure), Map.of());
  }

  private HttpErrors.Failure tooLarge(HttpRequest request) {
    // A compressed body reaches this handler inflated, its length unknown: only a plain one says how big it is.
    long declared = HttpUtil.getContentLength(request, -1L);
    String size = declared >= 0 ? "is " + declared + " bytes, more" : "is more";
    return new HttpErrors.Failure(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "the request body " + size + " than the "
        + maxRequestBytes + " this server takes (--http-max-request-bytes); send large tensors as binary data or over "
        + "gRPC");
  }
}
