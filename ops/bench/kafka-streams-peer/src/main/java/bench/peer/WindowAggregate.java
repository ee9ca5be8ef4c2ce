package bench.peer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * One entity's window of events, folded event by event: the same fold as addEvent in
 * topologies/features.ts (counts per event type, the positive values' sum and maximum, up to
 * 64 distinct sessions, countries and IPs, the first and last event time). Stored in RocksDB
 * through a compact binary serde (the Node side stores JSON; only the values matter).
 */
final class WindowAggregate {
    /** Distinct values kept per window and field (DISTINCT_CAP on the Node side). */
    static final int DISTINCT_CAP = 64;
    /** The EventType enum's symbol count: counts are kept by the symbol's ordinal. */
    static final int TYPES = 12;

    int events;
    final int[] byType = new int[TYPES];
    double valueSum;
    double valueMax;
    final List<String> sessions = new ArrayList<>();
    final List<String> countries = new ArrayList<>();
    final List<String> ips = new ArrayList<>();
    long first;
    long last;

    /** Folds one event in (events may arrive out of order within a window). */
    WindowAggregate add(Event e) {
        if (e.typeIndex() >= 0 && e.typeIndex() < TYPES) byType[e.typeIndex()]++;
        Double v = e.value();
        if (v != null && Double.isFinite(v) && v > 0) {
            valueSum += v;
            valueMax = Math.max(valueMax, v);
        }
        addDistinct(sessions, e.sessionId());
        addDistinct(countries, e.country());
        addDistinct(ips, e.ip());
        first = events == 0 ? e.eventTime() : Math.min(first, e.eventTime());
        last = events == 0 ? e.eventTime() : Math.max(last, e.eventTime());
        events++;
        return this;
    }

    private static void addDistinct(List<String> list, String value) {
        if (value == null || list.size() >= DISTINCT_CAP || list.contains(value)) return;
        list.add(value);
    }

    static Serde<WindowAggregate> serde() {
        return Serdes.serdeFrom(SERIALIZER, DESERIALIZER);
    }

    // Layout: events, the TYPES counts (int32 each), valueSum, valueMax (float64), first, last
    // (int64), then the three lists as a count and length-prefixed UTF-8 strings.
    private static final Serializer<WindowAggregate> SERIALIZER = (topic, a) -> {
        if (a == null) return null;
        List<byte[]> strings = new ArrayList<>();
        int size = 4 + 4 * TYPES + 8 * 4 + 3 * 4;
        for (List<String> list : List.of(a.sessions, a.countries, a.ips))
            for (String s : list) {
                byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
                strings.add(bytes);
                size += 4 + bytes.length;
            }
        ByteBuffer out = ByteBuffer.allocate(size);
        out.putInt(a.events);
        for (int n : a.byType) out.putInt(n);
        out.putDouble(a.valueSum).putDouble(a.valueMax).putLong(a.first).putLong(a.last);
        int next = 0;
        for (List<String> list : List.of(a.sessions, a.countries, a.ips)) {
            out.putInt(list.size());
            for (int i = 0; i < list.size(); i++) {
                byte[] bytes = strings.get(next++);
                out.putInt(bytes.length).put(bytes);
            }
        }
        return out.array();
    };

    private static final Deserializer<WindowAggregate> DESERIALIZER = (topic, data) -> {
        if (data == null) return null;
        try {
            ByteBuffer in = ByteBuffer.wrap(data);
            WindowAggregate a = new WindowAggregate();
            a.events = in.getInt();
            for (int i = 0; i < TYPES; i++) a.byType[i] = in.getInt();
            a.valueSum = in.getDouble();
            a.valueMax = in.getDouble();
            a.first = in.getLong();
            a.last = in.getLong();
            for (List<String> list : List.of(a.sessions, a.countries, a.ips)) {
                int n = in.getInt();
                if (n < 0 || n > DISTINCT_CAP) throw new SerializationException("a window aggregate lists " + n + " distinct values");
                for (int i = 0; i < n; i++) {
                    int len = in.getInt();
                    if (len < 0 || len > in.remaining()) throw new SerializationException("a window aggregate string of " + len + " bytes overruns the value");
                    list.add(new String(data, in.position(), len, StandardCharsets.UTF_8));
                    in.position(in.position() + len);
                }
            }
            return a;
        } catch (RuntimeException e) {
            if (e instanceof SerializationException s) throw s;
            throw new SerializationException("a window aggregate cannot be read: " + e, e);
        }
    };
}
