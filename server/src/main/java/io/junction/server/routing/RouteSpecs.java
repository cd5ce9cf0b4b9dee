package io.junction.server.routing;

import io.junction.proto.admin.v1.BanditSpec;
import io.junction.proto.admin.v1.BusinessSloSpec;
import io.junction.proto.admin.v1.CanarySpec;
import io.junction.proto.admin.v1.RouteSpec;
import io.junction.proto.admin.v1.RuleSpec;
import io.junction.proto.admin.v1.ShadowSpec;
import io.junction.proto.admin.v1.VariantSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The one mapping between a route as written (the admin API's {@code RouteSpec}, which the routes file
 * is read into) and the domain {@link Route}, both ways, so that what one can say the other can: a
 * GET-then-PUT keeps everything, canary and shadow included. Defaults of unset optional fields live here.
 */
public final class RouteSpecs {
  static final long DEFAULT_MIN_REQUESTS = 100;
  static final double DEFAULT_MIN_SECONDS = 0;
  static final double DEFAULT_MAX_ERROR_RATE_INCREASE = 0.01;
  static final double DEFAULT_MAX_P99_RATIO = 2.0;
  static final double DEFAULT_SHADOW_FRACTION = 1.0;
  static final double DEFAULT_SLO_CONFIDENCE = 0.95;
  static final long DEFAULT_SLO_MIN_SAMPLES = 100;
  static final double DEFAULT_BANDIT_MIN_SHARE = 0.05;
  static final long DEFAULT_BANDIT_MIN_SAMPLES = 100;

  private RouteSpecs() {}

  /** @throws IllegalArgumentException naming the route and what is wrong */
  public static Route toDomain(RouteSpec spec) {
    String where = "route '" + spec.getName() + "'";
    if (spec.getName().isBlank()) {
      throw new IllegalArgumentException("a route needs a name");
    }
    List<Variant> variants = new ArrayList<>();
    for (VariantSpec v : spec.getVariantsList()) {
      if (v.getName().isBlank() || v.getModel().isBlank()) {
        throw new IllegalArgumentException(where + ": a variant needs a name and a model");
      }
      if (!v.hasWeight()) {
        throw new IllegalArgumentException(where + " variant '" + v.getName() + "' needs a weight");
      }
      variants.add(new Variant(v.getName(), v.getModel(), v.getVersion(), v.getWeight()));
    }
    List<Rule> rules = new ArrayList<>();
    for (RuleSpec r : spec.getRulesList()) {
      if (r.getHeader().isBlank() || r.getVariant().isBlank()) {
        throw new IllegalArgumentException(where + ": a rule needs a header and a variant");
      }
      rules.add(new Rule(r.getHeader(), r.getValue(), r.getVariant()));
    }
    return new Route(spec.getName(), variants, rules,
        spec.hasCanary() ? Optional.of(canary(where, spec.getCanary())) : Optional.empty(),
        spec.hasShadow() ? Optional.of(shadow(where, spec.getShadow())) : Optional.empty(),
        spec.hasBandit() ? Optional.of(bandit(where, spec.getBandit())) : Optional.empty());
  }

  public static RouteSpec toSpec(Route route) {
    RouteSpec.Builder b = RouteSpec.newBuilder().setName(route.name());
    route.variants().forEach(v -> b.addVariants(VariantSpec.newBuilder().setName(v.name()).setModel(v.model())
        .setVersion(v.version()).setWeight(v.weight())));
    route.rules().forEach(r -> b.addRules(RuleSpec.newBuilder().setHeader(r.header()).setValue(r.value())
        .setVariant(r.variant())));
    route.canary().ifPresent(c -> b.setCanary(canarySpec(c)));
    route.shadow().ifPresent(s -> b.setShadow(ShadowSpec.newBuilder().setModel(s.model()).setVersion(s.version())
        .setFraction(s.fraction())));
    route.bandit().ifPresent(x -> b.setBandit(BanditSpec.newBuilder().setOutcome(x.outcome())
        .setMinShare(x.minShare()).setMinSamples(x.minSamples())));
    return b.build();
  }

  static CanarySpec canarySpec(Canary c) {
    CanarySpec.Builder b = CanarySpec.newBuilder().setVariant(c.variant()).setBaseline(c.baseline())
        .addAllSteps(c.steps()).setMinRequests(c.minRequests()).setMinSeconds(c.minSeconds())
        .setMaxErrorRateIncrease(c.maxErrorRateIncrease()).setMaxP99Ratio(c.maxP99Ratio());
    c.businessSlo().ifPresent(s -> b.setBusinessSlo(BusinessSloSpec.newBuilder().setOutcome(s.outcome())
        .setMaxDecrease(s.maxDecrease()).setConfidence(s.confidence()).setMinSamples(s.minSamples())));
    return b.build();
  }

  static Canary canary(String where, CanarySpec c) {
    if (c.getVariant().isBlank() || c.getBaseline().isBlank()) {
      throw new IllegalArgumentException(where + ": its canary needs a variant and a baseline");
    }
    try {
      return new Canary(c.getVariant(), c.getBaseline(), c.getStepsList(),
          c.hasMinRequests() ? c.getMinRequests() : DEFAULT_MIN_REQUESTS,
          c.hasMinSeconds() ? c.getMinSeconds() : DEFAULT_MIN_SECONDS,
          c.hasMaxErrorRateIncrease() ? c.getMaxErrorRateIncrease() : DEFAULT_MAX_ERROR_RATE_INCREASE,
          c.hasMaxP99Ratio() ? c.getMaxP99Ratio() : DEFAULT_MAX_P99_RATIO,
          c.hasBusinessSlo() ? Optional.of(businessSlo(c.getBusinessSlo())) : Optional.empty());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
    }
  }

  private static Canary.BusinessSlo businessSlo(BusinessSloSpec s) {
    return new Canary.BusinessSlo(s.getOutcome(), s.hasMaxDecrease() ? s.getMaxDecrease() : 0,
        s.hasConfidence() ? s.getConfidence() : DEFAULT_SLO_CONFIDENCE,
        s.hasMinSamples() ? s.getMinSamples() : DEFAULT_SLO_MIN_SAMPLES);
  }

  private static Bandit bandit(String where, BanditSpec s) {
    try {
      return new Bandit(s.getOutcome(), s.hasMinShare() ? s.getMinShare() : DEFAULT_BANDIT_MIN_SHARE,
          s.hasMinSamples() ? s.getMinSamples() : DEFAULT_BANDIT_MIN_SAMPLES);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
    }
  }

  private static Shadow shadow(String where, ShadowSpec s) {
    if (s.getModel().isBlank()) {
      throw new IllegalArgumentException(where + ": its shadow needs a model");
    }
    try {
      return new Shadow(s.getModel(), s.getVersion(), s.hasFraction() ? s.getFraction() : DEFAULT_SHADOW_FRACTION);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
    }
  }
}
