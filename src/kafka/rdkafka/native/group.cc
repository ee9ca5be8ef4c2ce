/*
 * Batch consume on node-rdkafka's own KafkaConsumer (the processing consumer: a group
 * member with cooperative rebalances, whose group metadata transactions need). node-rdkafka
 * turns each message into an object with two Buffers and a topic string in native code on
 * the main thread, about 3.6 µs per record (docs/performance.md); this reads the same
 * messages from the same consumer queue on libuv's pool and hands JavaScript one buffer of
 * keys, values and header bytes with typed arrays of their places.
 *
 * How it reaches node-rdkafka's consumer: the JavaScript object is a Nan::ObjectWrap, and
 * node-rdkafka's own headers (src/kafka-consumer.h) give its layout — built against the
 * installed node-rdkafka, whose version the loader checks. Its librdkafka handle and its
 * connection lock are protected members, read through a derived class; the read lock is
 * held for the whole call, as node-rdkafka's consume does, so a disconnect waits for it.
 * Rebalance callbacks librdkafka serves during the call go to node-rdkafka's dispatcher,
 * exactly as during node-rdkafka's own consume.
 *
 * This is a V8 addon (not Node-API: node-rdkafka's object is not a Node-API one), so it is
 * built for one Node version; the loader falls back to node-rdkafka's consume when it does
 * not load.
 */
#include <dlfcn.h>
#include <cstdlib>
#include <cstring>
#include <vector>
#include "src/kafka-consumer.h"

namespace {

#define RDK(X)                                                                                                         \
  X(rd_kafka_queue_get_consumer) X(rd_kafka_queue_destroy) X(rd_kafka_consume_batch_queue) X(rd_kafka_message_destroy) \
  X(rd_kafka_topic_name) X(rd_kafka_err2str) X(rd_kafka_message_timestamp) X(rd_kafka_message_headers)                 \
  X(rd_kafka_header_get_all)
#define DECLARE(f) decltype(&f) p_##f = nullptr;
RDK(DECLARE)
bool loaded = false;

constexpr int32_t MAX_BATCH = 100000;
constexpr int32_t MAX_TIMEOUT_MS = 60000;
/* Per record: topic index, partition, key start, key length, value start, value length, first header, header count. */
constexpr size_t META = 8;

/* node-rdkafka's protected members, read through a class derived from its consumer (never instantiated). */
struct Peek : NodeKafka::KafkaConsumer {
  static RdKafka::Handle *client(NodeKafka::Connection *c) { return c->*(&Peek::m_client); }
  static uv_rwlock_t *lock(NodeKafka::Connection *c) { return &(c->*(&Peek::m_connection_lock)); }
  static bool closing(NodeKafka::Connection *c) { return c->*(&Peek::m_is_closing); }
};

class ConsumeWorker : public Nan::AsyncWorker {
 public:
  ConsumeWorker(Nan::Callback *cb, NodeKafka::KafkaConsumer *consumer, size_t max, int timeout)
      : Nan::AsyncWorker(cb, "rdkafka-group-batch"), consumer_(consumer), max_(max), timeout_(timeout) {}

  ~ConsumeWorker() override {
    free(data_.bytes), free(meta_.bytes), free(numbers_.bytes);
  }

  void Execute() override {
    uv_rwlock_t *lock = Peek::lock(consumer_);
    uv_rwlock_rdlock(lock);
    RdKafka::Handle *client = Peek::client(consumer_);
    if (client == nullptr || Peek::closing(consumer_)) {
      uv_rwlock_rdunlock(lock);
      return Fail(RD_KAFKA_RESP_ERR__STATE, "KafkaConsumer is not connected");
    }
    rd_kafka_queue_t *queue = p_rd_kafka_queue_get_consumer(client->c_ptr());
    std::vector<rd_kafka_message_t *> msgs(max_);
    ssize_t got = queue ? p_rd_kafka_consume_batch_queue(queue, timeout_, msgs.data(), max_) : -1;
    if (queue) p_rd_kafka_queue_destroy(queue);
    uv_rwlock_rdunlock(lock);
    if (got < 0) return Fail(RD_KAFKA_RESP_ERR__FAIL, "rd_kafka_consume_batch_queue failed");
    Collect(msgs.data(), static_cast<size_t>(got));
  }

  void HandleOKCallback() override {
    Nan::HandleScope scope;
    v8::Local<v8::Object> out = Nan::New<v8::Object>();
    Nan::Set(out, Nan::New("data").ToLocalChecked(), Owned(data_));
    Nan::Set(out, Nan::New("meta").ToLocalChecked(), Owned(meta_));
    Nan::Set(out, Nan::New("numbers").ToLocalChecked(), Owned(numbers_));
    v8::Local<v8::Array> topics = Nan::New<v8::Array>(topics_.size());
    for (size_t i = 0; i < topics_.size(); i++) Nan::Set(topics, i, Nan::New(topics_[i]).ToLocalChecked());
    Nan::Set(out, Nan::New("topics").ToLocalChecked(), topics);
    v8::Local<v8::Array> eofs = Nan::New<v8::Array>(eofs_.size());
    for (size_t i = 0; i < eofs_.size(); i++) {
      v8::Local<v8::Object> e = Nan::New<v8::Object>();
      Nan::Set(e, Nan::New("topic").ToLocalChecked(), Nan::New(eofs_[i].topic).ToLocalChecked());
      Nan::Set(e, Nan::New("partition").ToLocalChecked(), Nan::New(eofs_[i].partition));
      Nan::Set(eofs, i, e);
    }
    Nan::Set(out, Nan::New("eof").ToLocalChecked(), eofs);
    v8::Local<v8::Value> argv[] = {Nan::Null(), out};
    callback->Call(2, argv, async_resource);
  }

  void HandleErrorCallback() override {
    Nan::HandleScope scope;
    v8::Local<v8::Value> err = Nan::Error(ErrorMessage());
    Nan::Set(err.As<v8::Object>(), Nan::New("code").ToLocalChecked(), Nan::New(code_));
    v8::Local<v8::Value> argv[] = {err};
    callback->Call(1, argv, async_resource);
  }

 private:
  struct Block {
    char *bytes = nullptr;
    size_t size = 0;
  };
  struct Eof {
    std::string topic;
    int32_t partition;
  };

  void Fail(int code, const char *message) {
    code_ = code;
    SetErrorMessage(message);
  }

  /* A Buffer that owns `b` (freed by V8's garbage collector). */
  static v8::Local<v8::Object> Owned(Block &b) {
    char *bytes = b.bytes ? b.bytes : static_cast<char *>(malloc(1));
    v8::Local<v8::Object> out = Nan::NewBuffer(bytes, b.size).ToLocalChecked();
    b.bytes = nullptr;
    return out;
  }

  void Collect(rd_kafka_message_t **msgs, size_t got) {
    size_t bytes = 0, records = 0, headers = 0;
    for (size_t i = 0; i < got; i++) {
      rd_kafka_message_t *m = msgs[i];
      if (m->err) continue;
      records++;
      bytes += m->key_len + m->len;
      rd_kafka_headers_t *hdrs = nullptr;
      const char *name;
      const void *value;
      size_t size;
      if (p_rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
        for (size_t h = 0; p_rd_kafka_header_get_all(hdrs, h, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; h++)
          headers++, bytes += strlen(name) + size;
    }
    /* numbers: per record its offset and its timestamp; then per header name start, name length, value start, value length (-1: null). */
    data_.size = bytes;
    meta_.size = records * META * sizeof(int32_t);
    numbers_.size = records * 2 * sizeof(double) + headers * 4 * sizeof(double);
    data_.bytes = static_cast<char *>(malloc(bytes ? bytes : 1));
    meta_.bytes = static_cast<char *>(malloc(meta_.size ? meta_.size : 1));
    numbers_.bytes = static_cast<char *>(malloc(numbers_.size ? numbers_.size : 1));
    bool fits = data_.bytes && meta_.bytes && numbers_.bytes && bytes <= INT32_MAX;
    int32_t *meta = reinterpret_cast<int32_t *>(meta_.bytes);
    double *numbers = reinterpret_cast<double *>(numbers_.bytes);
    double *hdr = numbers + records * 2;
    size_t at = 0, k = 0, hk = 0;
    for (size_t i = 0; i < got; i++) {
      rd_kafka_message_t *m = msgs[i];
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (m->rkt) eofs_.push_back({p_rd_kafka_topic_name(m->rkt), m->partition});
      } else if (m->err) {
        /* As node-rdkafka's consume: an error fails the call only when it brought no record. */
        if (code_ == 0) {
          code_ = m->err;
          message_ = std::string(m->rkt ? p_rd_kafka_topic_name(m->rkt) : "") + (m->rkt ? ": " : "") + p_rd_kafka_err2str(m->err);
        }
      } else if (fits) {
        const char *topic = p_rd_kafka_topic_name(m->rkt);
        size_t t = 0;
        while (t < topics_.size() && topics_[t] != topic) t++;
        if (t == topics_.size()) topics_.push_back(topic);
        int32_t *row = meta + k * META;
        row[0] = static_cast<int32_t>(t);
        row[1] = m->partition;
        row[2] = static_cast<int32_t>(at);
        row[3] = m->key ? static_cast<int32_t>(m->key_len) : -1;
        if (m->key) memcpy(data_.bytes + at, m->key, m->key_len), at += m->key_len;
        row[4] = static_cast<int32_t>(at);
        row[5] = m->payload ? static_cast<int32_t>(m->len) : -1;
        if (m->payload) memcpy(data_.bytes + at, m->payload, m->len), at += m->len;
        row[6] = static_cast<int32_t>(hk);
        rd_kafka_headers_t *hdrs = nullptr;
        const char *name;
        const void *value;
        size_t size, n = 0;
        if (p_rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
          for (; p_rd_kafka_header_get_all(hdrs, n, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; n++, hk++) {
            size_t length = strlen(name);
            double *h = hdr + hk * 4;
            h[0] = static_cast<double>(at), h[1] = static_cast<double>(length);
            memcpy(data_.bytes + at, name, length), at += length;
            h[2] = static_cast<double>(at), h[3] = value ? static_cast<double>(size) : -1;
            if (value) memcpy(data_.bytes + at, value, size), at += size;
          }
        row[7] = static_cast<int32_t>(n);
        rd_kafka_timestamp_type_t type;
        int64_t ts = p_rd_kafka_message_timestamp(m, &type);
        numbers[k * 2] = static_cast<double>(m->offset);
        numbers[k * 2 + 1] = static_cast<double>(ts);
        k++;
      }
      p_rd_kafka_message_destroy(m);
    }
    if (!fits) return Fail(RD_KAFKA_RESP_ERR__FAIL, "a batch does not fit in memory");
    if (k == 0 && code_ != 0) return Fail(code_, message_.c_str());
    code_ = 0;
  }

  NodeKafka::KafkaConsumer *consumer_;
  size_t max_;
  int timeout_;
  int code_ = 0;
  std::string message_;
  Block data_, meta_, numbers_;
  std::vector<std::string> topics_;
  std::vector<Eof> eofs_;
};

/* load(path of librdkafka.so.1): the librdkafka entry points, from the library node-rdkafka loaded. */
NAN_METHOD(Load) {
  if (info.Length() < 1 || !info[0]->IsString()) return Nan::ThrowTypeError("load(path)");
  if (!loaded) {
    Nan::Utf8String path(info[0]);
    void *lib = dlopen(*path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) return Nan::ThrowError(dlerror());
#define RESOLVE(f)                                               \
  p_##f = reinterpret_cast<decltype(&f)>(dlsym(lib, #f));        \
  if (!p_##f) return Nan::ThrowError("librdkafka lacks " #f);
    RDK(RESOLVE)
    loaded = true;
  }
}

/* consume(nativeKafkaConsumer, max, timeoutMs, callback(err, batch)): the caller checks the object is node-rdkafka's. */
NAN_METHOD(Consume) {
  if (!loaded) return Nan::ThrowError("load() first");
  if (info.Length() < 4 || !info[0]->IsObject() || !info[1]->IsInt32() || !info[2]->IsInt32() || !info[3]->IsFunction())
    return Nan::ThrowTypeError("consume(consumer, max, timeoutMs, callback)");
  v8::Local<v8::Object> object = info[0].As<v8::Object>();
  if (object->InternalFieldCount() < 1) return Nan::ThrowTypeError("not node-rdkafka's KafkaConsumer");
  int32_t max = Nan::To<int32_t>(info[1]).FromJust();
  int32_t timeout = Nan::To<int32_t>(info[2]).FromJust();
  if (max < 1 || max > MAX_BATCH || timeout < 0 || timeout > MAX_TIMEOUT_MS) return Nan::ThrowRangeError("consume: max 1–100000 records, timeout 0–60000 ms");
  NodeKafka::KafkaConsumer *consumer = Nan::ObjectWrap::Unwrap<NodeKafka::KafkaConsumer>(object);
  auto *worker = new ConsumeWorker(new Nan::Callback(info[3].As<v8::Function>()), consumer, static_cast<size_t>(max), timeout);
  worker->SaveToPersistent("consumer", object); /* node-rdkafka's object outlives the call */
  Nan::AsyncQueueWorker(worker);
}

NAN_MODULE_INIT(Init) {
  Nan::SetMethod(target, "load", Load);
  Nan::SetMethod(target, "consume", Consume);
  /* The node-rdkafka whose headers this was built with: the loader refuses another. */
  Nan::Set(target, Nan::New("nodeRdkafka").ToLocalChecked(), Nan::New(NODE_RDKAFKA_VERSION).ToLocalChecked());
}

}  // namespace

NODE_MODULE(rdkafka_group_batch, Init)
