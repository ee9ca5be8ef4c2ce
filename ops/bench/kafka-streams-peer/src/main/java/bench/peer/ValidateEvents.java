package bench.peer;

import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;

/**
 * Event validation, as validateEvents / eventProblem in topologies/analytics-processors.ts:
 * an event whose key is not its entity, whose time is not a time or more than a day ahead
 * of the wall clock, or whose value is not finite is marked with the reason (and the
 * dead-letter headers) for the dead-letter branch; a null value is dropped.
 */
final class ValidateEvents implements FixedKeyProcessor<String, Event, ValidateEvents.Checked> {
    /** An event and why it cannot be used (null: it can). */
    record Checked(Event event, String problem) {}

    static final String CODE = "SA_ERR_EVENT_INVALID";
    private static final long DAY_MS = 86_400_000L;

    private FixedKeyProcessorContext<String, Checked> ctx;

    @Override
    public void init(FixedKeyProcessorContext<String, Checked> context) {
        this.ctx = context;
    }

    @Override
    public void process(FixedKeyRecord<String, Event> r) {
        if (r.value() == null) return;
        String problem = problem(r.key(), r.value(), System.currentTimeMillis());
        if (problem == null) {
            ctx.forward(r.withValue(new Checked(r.value(), null)));
            return;
        }
        ctx.forward(r.withValue(new Checked(r.value(), problem)).withHeaders(DeadLetters.headers(ctx, CODE, problem)));
    }

    static String problem(String key, Event e, long now) {
        if (key == null || key.isEmpty()) return "the record has no key (it must be the entity_id)";
        if (e.entityId() == null || e.entityId().isEmpty()) return "entity_id is empty";
        if (!e.entityId().equals(key)) return "entity_id \"" + e.entityId() + "\" differs from the record key \"" + key + "\"";
        if (e.eventTime() <= 0) return "event_time " + e.eventTime() + " is not a time";
        if (e.eventTime() > now + DAY_MS) return "event_time " + Js.isoTime(e.eventTime()) + " is more than a day ahead";
        if (e.value() != null && !Double.isFinite(e.value())) return "value " + Js.number(e.value()) + " is not a finite number";
        return null;
    }
}
