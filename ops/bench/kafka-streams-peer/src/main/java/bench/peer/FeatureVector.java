package bench.peer;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.avro.Schema;

/**
 * The model's named features of a window aggregate: featureVector in topologies/features.ts,
 * computed with the same double arithmetic in the same order and rounded the same way (to
 * 1e-4, half up), so both sides hand the model the same numbers.
 */
final class FeatureVector {
    private final int pageView;
    private final int click;
    private final int search;
    private final int purchase;
    private final int loginFailed;
    private final int error;
    private final long windowMs;

    FeatureVector(Schema eventSchema, long windowMs) {
        Schema types = eventSchema.getField("event_type").schema();
        if (types.getEnumSymbols().size() != WindowAggregate.TYPES)
            throw new IllegalStateException("EventType has " + types.getEnumSymbols().size() + " symbols, the aggregate counts " + WindowAggregate.TYPES);
        pageView = types.getEnumOrdinal("PAGE_VIEW");
        click = types.getEnumOrdinal("CLICK");
        search = types.getEnumOrdinal("SEARCH");
        purchase = types.getEnumOrdinal("PURCHASE");
        loginFailed = types.getEnumOrdinal("LOGIN_FAILED");
        error = types.getEnumOrdinal("ERROR");
        this.windowMs = windowMs;
    }

    /** Insertion-ordered, in the same order as the Node side builds its object. */
    Map<String, Double> of(WindowAggregate a) {
        int purchases = a.byType[purchase];
        double activeSeconds = Math.max(1, (a.last - a.first) / 1000.0);
        Map<String, Double> f = new LinkedHashMap<>(32);
        f.put("events", (double) a.events);
        f.put("page_views", (double) a.byType[pageView]);
        f.put("clicks", (double) a.byType[click]);
        f.put("searches", (double) a.byType[search]);
        f.put("purchases", (double) purchases);
        f.put("login_failures", (double) a.byType[loginFailed]);
        f.put("errors", (double) a.byType[error]);
        f.put("value_sum", round(a.valueSum));
        f.put("value_max", round(a.valueMax));
        f.put("mean_purchase_value", purchases > 0 ? round(a.valueSum / purchases) : 0.0);
        f.put("distinct_sessions", (double) a.sessions.size());
        f.put("distinct_countries", (double) a.countries.size());
        f.put("distinct_ips", (double) a.ips.size());
        f.put("events_per_active_second", round(a.events / activeSeconds));
        f.put("mean_gap_seconds", a.events > 1 ? round((a.last - a.first) / 1000.0 / (a.events - 1)) : round(windowMs / 1000.0));
        return f;
    }

    /** To 1e-4: Java's Math.round, like JavaScript's, rounds halves up (floor(x + 0.5)). */
    static double round(double x) {
        return Math.round(x * 10_000) / 10_000.0;
    }
}
