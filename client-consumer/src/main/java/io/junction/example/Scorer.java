package io.junction.example;

import io.junction.client.InferInput;
import io.junction.client.InferRequest;
import io.junction.client.InferResult;
import io.junction.client.InferStream;
import io.junction.client.JunctionClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** What an application might write: scores rows of 8 features with the demo {@code mlp}, three ways. */
public final class Scorer implements AutoCloseable {
  private final JunctionClient client;

  public Scorer(String target) {
    this.client = JunctionClient.builder(target).plaintext().build();
  }

  public float[] score(float[] features) {
    return client.infer(request(features)).asFloats("y");
  }

  public CompletableFuture<float[]> scoreAsync(float[] features) {
    return client.inferAsync(request(features)).thenApply(r -> r.asFloats("y"));
  }

  /** Scores many rows over one stream, in order. */
  public List<float[]> scoreStream(List<float[]> rows) throws Exception {
    List<CompletableFuture<InferResult>> answers = new ArrayList<>();
    try (InferStream stream = client.inferStream()) {
      for (float[] row : rows) {
        answers.add(stream.send(request(row)));
      }
    }
    List<float[]> scores = new ArrayList<>();
    for (CompletableFuture<InferResult> a : answers) {
      scores.add(a.get().asFloats("y"));
    }
    return scores;
  }

  public boolean ready() {
    return client.isModelReady("mlp");
  }

  private static InferRequest request(float[] features) {
    return InferRequest.builder("mlp").version(1).input(InferInput.fp32("x", features, 1, features.length)).build();
  }

  @Override
  public void close() {
    client.close();
  }
}
