package io.junction.loadtest.bench;

import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelStreamInferResponse;
import io.junction.proto.inference.ServerReadyRequest;
import io.junction.proto.inference.ServerReadyResponse;
import java.net.InetSocketAddress;

/**
 * The floor E of the per-call benchmark: a plain grpc-java server (the library's defaults) whose
 * ModelInfer answers each request with its own inputs as outputs, so it parses and writes the same
 * bytes Junction does and does nothing else; ModelStreamInfer answers each request of a stream the same way. {@code EchoServer <port>}; runs until killed.
 */
public final class EchoServer {
  private EchoServer() {}

  public static void main(String[] args) throws Exception {
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])))
        .maxInboundMessageSize(64 << 20)
        .addService(new GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase() {
          @Override
          public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> out) {
            out.onNext(ServerReadyResponse.newBuilder().setReady(true).build());
            out.onCompleted();
          }

          @Override
          public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> out) {
            out.onNext(echo(request));
            out.onCompleted();
          }

          @Override
          public StreamObserver<ModelInferRequest> modelStreamInfer(StreamObserver<ModelStreamInferResponse> out) {
            return new StreamObserver<>() {
              @Override
              public void onNext(ModelInferRequest request) {
                out.onNext(ModelStreamInferResponse.newBuilder().setInferResponse(echo(request)).build());
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {
                out.onCompleted();
              }
            };
          }
        }).build().start();
    System.out.println("echo server on port " + server.getPort());
    server.awaitTermination();
  }

  private static ModelInferResponse echo(ModelInferRequest request) {
    ModelInferResponse.Builder response = ModelInferResponse.newBuilder()
        .setModelName(request.getModelName()).setModelVersion("1").setId(request.getId());
    request.getInputsList().forEach(in -> response.addOutputs(ModelInferResponse.InferOutputTensor.newBuilder()
        .setName(in.getName()).setDatatype(in.getDatatype()).addAllShape(in.getShapeList())));
    response.addAllRawOutputContents(request.getRawInputContentsList());
    return response.build();
  }
}
