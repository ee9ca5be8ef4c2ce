package bench.peer;

import java.time.Duration;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindowedKStream;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.WindowStore;

/**
 * windowed: per key, a count and a sum of the (decimal) values in 1-minute tumbling windows
 * with 10 s grace, both on RocksDB stores ("counts", "sums"); each result goes out keyed
 * "key@windowStartMs" with the number as a decimal string. The Node side's twin is
 * windowedTopology in ops/bench/app/topologies.ts.
 */
final class WindowedTopology {
    private WindowedTopology() {}

    static Topology build(String input, String counts, String sums) {
        Serde<String> s = Serdes.String();
        StreamsBuilder b = new StreamsBuilder();
        TimeWindowedKStream<String, String> windowed = b.stream(input, Consumed.with(s, s))
                .groupByKey(Grouped.with(s, s))
                .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(60), Duration.ofSeconds(10)));
        windowed.count(Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("counts").withKeySerde(s).withValueSerde(Serdes.Long()))
                .toStream()
                .map(WindowedTopology::output)
                .to(counts, Produced.with(s, s));
        windowed.aggregate(() -> 0L, (k, v, sum) -> sum + Long.parseLong(v),
                        Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("sums").withKeySerde(s).withValueSerde(Serdes.Long()))
                .toStream()
                .map(WindowedTopology::output)
                .to(sums, Produced.with(s, s));
        return b.build();
    }

    private static KeyValue<String, String> output(Windowed<String> w, Long n) {
        return KeyValue.pair(w.key() + "@" + w.window().start(), n == null ? null : Long.toString(n));
    }
}
