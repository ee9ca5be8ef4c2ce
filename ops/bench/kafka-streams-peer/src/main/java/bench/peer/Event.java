package bench.peer;

import java.util.Map;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.util.Utf8;

/**
 * The parts of an analytics event (schemas/analytics-event.avsc) the pipeline uses, read
 * once from the decoded Avro record; the record itself is kept for the dead-letter body.
 */
record Event(
        String entityId,
        int typeIndex,
        String sessionId,
        long eventTime,
        Double value,
        String country,
        String ip,
        GenericRecord avro) {
    private static final Utf8 COUNTRY = new Utf8("country");
    private static final Utf8 IP = new Utf8("ip");

    static Event of(GenericRecord r) {
        Map<?, ?> properties = (Map<?, ?>) r.get("properties");
        return new Event(
                text(r.get("entity_id")),
                ((GenericEnumSymbol<?>) r.get("event_type")).getSchema().getEnumOrdinal(r.get("event_type").toString()),
                text(r.get("session_id")),
                (Long) r.get("event_time"),
                (Double) r.get("value"),
                text(property(properties, COUNTRY)),
                text(property(properties, IP)),
                r);
    }

    private static Object property(Map<?, ?> properties, Utf8 name) {
        if (properties == null) return null;
        Object v = properties.get(name);
        return v != null ? v : properties.get(name.toString());
    }

    private static String text(Object o) {
        return o == null ? null : o.toString();
    }
}
