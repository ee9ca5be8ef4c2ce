/*
 * A batch reader on librdkafka, for restoration (Kafka Streams' restore consumer): one
 * consumer outside any group that only assigns and reads, handing JavaScript a whole batch
 * at once — every key and value as slices of one buffer, the metadata as typed arrays —
 * instead of node-rdkafka's one object, two Buffers and a topic string per message, which
 * cost about 3.6 µs per record on the main thread (docs/performance.md).
 *
 * It uses the librdkafka node-rdkafka already loaded: the path comes from JavaScript, and
 * dlopen of an already-loaded library returns that library, so the process keeps one
 * librdkafka. Every entry point is looked up with dlsym (nothing is linked at build time),
 * so this file needs only librdkafka's header and Node's node_api.h to compile. Node-API:
 * one build serves every Node version the project supports.
 *
 * Threads: consume, watermarks and close run on libuv's pool (they block); JavaScript keeps
 * at most one of them in flight per handle (src/kafka/rdkafka/batch-consumer.ts), and this
 * file refuses a second one anyway.
 */
#define NAPI_VERSION 8
#include <dlfcn.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>

#define MAX_BATCH 1000000
#define MAX_TIMEOUT_MS 60000
#define MAX_ASSIGNED 100000
#define MAX_NAME 512
#define MAX_SETTINGS 1000
#define META 6 /* per record: topic index, partition, key start, key length, value start, value length */

#define RDK(X)                                                                                            \
  X(rd_kafka_conf_new) X(rd_kafka_conf_set) X(rd_kafka_conf_destroy) X(rd_kafka_new) X(rd_kafka_destroy)  \
  X(rd_kafka_poll_set_consumer) X(rd_kafka_queue_get_consumer) X(rd_kafka_queue_destroy)                  \
  X(rd_kafka_consume_batch_queue) X(rd_kafka_message_destroy) X(rd_kafka_topic_name) X(rd_kafka_err2str)  \
  X(rd_kafka_assign) X(rd_kafka_topic_partition_list_new) X(rd_kafka_topic_partition_list_add)            \
  X(rd_kafka_topic_partition_list_destroy) X(rd_kafka_query_watermark_offsets) X(rd_kafka_consumer_close) \
  X(rd_kafka_version_str)
#define DECLARE(f) static __typeof__(&f) p_##f;
RDK(DECLARE)
static int loaded = 0;

typedef struct {
  rd_kafka_t *rk;
  rd_kafka_queue_t *queue;
  int busy;   /* an operation runs on the pool */
  int closed; /* close() ran: every later call is refused */
} reader_t;

typedef struct {
  char *topic;
  int32_t partition;
  double offset;
} eof_t;

/* One operation on the pool: its inputs, its outputs, and the JavaScript it answers. */
typedef struct {
  reader_t *r;
  napi_ref self;
  napi_ref callback;
  napi_async_work work;
  int kind; /* 0 consume, 1 watermarks, 2 close */
  /* consume */
  size_t max;
  int timeout_ms;
  size_t count;
  char *data;
  size_t data_len;
  int32_t *meta;
  double *offsets;
  char **topics; /* the distinct topic names of the batch, at most one per record */
  size_t topic_count;
  eof_t *eofs; /* the partitions read to their end, at most one per message */
  size_t eof_count;
  /* watermarks */
  char topic[MAX_NAME];
  int32_t partition;
  int64_t low, high;
  /* any */
  int err;
  char errstr[512];
} op_t;

static napi_value fail(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) return fail(env, "ERR_NATIVE", #call);      \
  } while (0)

static napi_value load(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  char path[4096];
  size_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok || len >= sizeof path - 1)
    return fail(env, "ERR_INVALID_ARG", "load(path): the path of librdkafka.so.1, under 4096 bytes");
  if (!loaded) {
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) return fail(env, "ERR_DLOPEN", dlerror());
#define RESOLVE(f)                                            \
  p_##f = (__typeof__(&f))dlsym(lib, #f);                     \
  if (!p_##f) return fail(env, "ERR_DLSYM", "librdkafka lacks " #f);
    RDK(RESOLVE)
    loaded = 1;
  }
  CHECK(napi_create_string_utf8(env, p_rd_kafka_version_str(), NAPI_AUTO_LENGTH, &out));
  return out;
}

static reader_t *unwrap(napi_env env, napi_value v) {
  reader_t *r = NULL;
  if (napi_get_value_external(env, v, (void **)&r) != napi_ok || !r) {
    fail(env, "ERR_INVALID_ARG", "not a reader handle");
    return NULL;
  }
  if (r->closed || r->busy) {
    fail(env, "ERR_STATE", r->closed ? "the reader is closed" : "an operation is already in flight");
    return NULL;
  }
  return r;
}

static void finalize_reader(napi_env env, void *data, void *hint) {
  reader_t *r = data;
  (void)env, (void)hint;
  /* Never closed (its owner dropped it): stop librdkafka's threads here. No operation is in
   * flight, since each holds a reference to the handle. */
  if (!r->closed) {
    p_rd_kafka_queue_destroy(r->queue);
    p_rd_kafka_destroy(r->rk);
  }
  free(r);
}

/* open(["key", "value", …]): a consumer with these librdkafka settings. */
static napi_value open_reader(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  uint32_t n;
  char key[MAX_NAME], value[4096], errstr[512];
  size_t len;
  bool is_array;
  if (!loaded) return fail(env, "ERR_STATE", "load() first");
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array) return fail(env, "ERR_INVALID_ARG", "open(settings): an array of key, value strings");
  CHECK(napi_get_array_length(env, argv[0], &n));
  if (n % 2 != 0 || n > 2 * MAX_SETTINGS) return fail(env, "ERR_INVALID_ARG", "open(settings): an even number of strings, at most 2000");
  rd_kafka_conf_t *conf = p_rd_kafka_conf_new();
  for (uint32_t i = 0; i < n; i += 2) {
    napi_value k, v;
    if (napi_get_element(env, argv[0], i, &k) != napi_ok || napi_get_element(env, argv[0], i + 1, &v) != napi_ok ||
        napi_get_value_string_utf8(env, k, key, sizeof key, &len) != napi_ok || len >= sizeof key - 1 ||
        napi_get_value_string_utf8(env, v, value, sizeof value, &len) != napi_ok || len >= sizeof value - 1) {
      p_rd_kafka_conf_destroy(conf);
      return fail(env, "ERR_INVALID_ARG", "a setting is not a string, or is too long (keys under 512 bytes, values under 4096)");
    }
    if (p_rd_kafka_conf_set(conf, key, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      p_rd_kafka_conf_destroy(conf);
      return fail(env, "ERR_CONFIG", errstr);
    }
  }
  rd_kafka_t *rk = p_rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr); /* takes conf on success */
  if (!rk) {
    p_rd_kafka_conf_destroy(conf);
    return fail(env, "ERR_CONFIG", errstr);
  }
  rd_kafka_queue_t *queue = p_rd_kafka_poll_set_consumer(rk) ? NULL : p_rd_kafka_queue_get_consumer(rk);
  if (!queue) {
    p_rd_kafka_destroy(rk);
    return fail(env, "ERR_CONFIG", "a restore consumer needs a group.id (it never joins the group or commits)");
  }
  reader_t *r = calloc(1, sizeof *r);
  if (!r) {
    p_rd_kafka_queue_destroy(queue);
    p_rd_kafka_destroy(rk);
    return fail(env, "ERR_NOMEM", "out of memory");
  }
  r->rk = rk;
  r->queue = queue;
  CHECK(napi_create_external(env, r, finalize_reader, NULL, &out));
  return out;
}

/* assign(handle, topics[], partitions[], offsets[]); no arrays (or empty ones) unassign. */
static napi_value assign(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  uint32_t n = 0, n2 = 0, n3 = 0;
  char topic[MAX_NAME];
  size_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader_t *r = argc == 4 ? unwrap(env, argv[0]) : NULL;
  if (!r) return argc == 4 ? NULL : fail(env, "ERR_INVALID_ARG", "assign(handle, topics, partitions, offsets)");
  if (napi_get_array_length(env, argv[1], &n) != napi_ok || napi_get_array_length(env, argv[2], &n2) != napi_ok ||
      napi_get_array_length(env, argv[3], &n3) != napi_ok || n != n2 || n != n3 || n > MAX_ASSIGNED)
    return fail(env, "ERR_INVALID_ARG", "assign: three arrays of the same length, at most 100000");
  rd_kafka_topic_partition_list_t *list = p_rd_kafka_topic_partition_list_new((int)n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value t, p, o;
    int32_t partition;
    int64_t offset;
    if (napi_get_element(env, argv[1], i, &t) != napi_ok || napi_get_element(env, argv[2], i, &p) != napi_ok ||
        napi_get_element(env, argv[3], i, &o) != napi_ok || napi_get_value_string_utf8(env, t, topic, sizeof topic, &len) != napi_ok ||
        len == 0 || len >= sizeof topic - 1 || napi_get_value_int32(env, p, &partition) != napi_ok || partition < 0 ||
        napi_get_value_int64(env, o, &offset) != napi_ok) {
      p_rd_kafka_topic_partition_list_destroy(list);
      return fail(env, "ERR_INVALID_ARG", "assign: a topic name (1–511 bytes), a partition >= 0 and an offset per entry");
    }
    p_rd_kafka_topic_partition_list_add(list, topic, partition)->offset = offset;
  }
  rd_kafka_resp_err_t err = p_rd_kafka_assign(r->rk, n == 0 ? NULL : list);
  p_rd_kafka_topic_partition_list_destroy(list);
  if (err) return fail(env, "ERR_KAFKA", p_rd_kafka_err2str(err));
  return NULL;
}

/* The batch: how many records, and the bytes of their keys and values, copied into one buffer. */
static void consume_execute(op_t *op) {
  rd_kafka_message_t **msgs = malloc(op->max * sizeof *msgs);
  if (!msgs) {
    op->err = RD_KAFKA_RESP_ERR__FAIL;
    snprintf(op->errstr, sizeof op->errstr, "out of memory for a batch of %zu", op->max);
    return;
  }
  ssize_t got = p_rd_kafka_consume_batch_queue(op->r->queue, op->timeout_ms, msgs, op->max);
  if (got < 0) {
    op->err = RD_KAFKA_RESP_ERR__FAIL;
    snprintf(op->errstr, sizeof op->errstr, "rd_kafka_consume_batch_queue failed");
    free(msgs);
    return;
  }
  size_t bytes = 0, records = 0;
  for (ssize_t i = 0; i < got; i++)
    if (!msgs[i]->err) bytes += msgs[i]->key_len + msgs[i]->len, records++;
  op->topics = calloc(got ? (size_t)got : 1, sizeof *op->topics);
  op->eofs = calloc(got ? (size_t)got : 1, sizeof *op->eofs);
  op->data = malloc(bytes ? bytes : 1);
  op->meta = malloc((records ? records : 1) * META * sizeof(int32_t));
  op->offsets = malloc((records ? records : 1) * sizeof(double));
  if (!op->topics || !op->eofs || !op->data || !op->meta || !op->offsets || bytes > INT32_MAX) {
    op->err = RD_KAFKA_RESP_ERR__FAIL;
    snprintf(op->errstr, sizeof op->errstr, "a batch of %zu bytes does not fit", bytes);
    records = 0;
  }
  size_t at = 0, k = 0;
  for (ssize_t i = 0; i < got; i++) {
    rd_kafka_message_t *m = msgs[i];
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      char *topic = op->eofs && m->rkt ? strdup(p_rd_kafka_topic_name(m->rkt)) : NULL;
      if (topic) {
        eof_t *e = &op->eofs[op->eof_count++];
        e->topic = topic;
        e->partition = m->partition;
        e->offset = (double)m->offset;
      } else if (!op->err) {
        op->err = RD_KAFKA_RESP_ERR__FAIL; /* an end not reported would leave the restorer waiting */
        snprintf(op->errstr, sizeof op->errstr, "out of memory for a partition's end");
      }
    } else if (m->err) {
      /* A partition's error (it would never reach its end) or a fatal one fails the batch; a
       * client-wide one (a lost connection, a name that did not resolve) librdkafka retries
       * by itself, as node-rdkafka's consumer leaves those to its event callback. */
      if (!op->err && (m->rkt || m->err == RD_KAFKA_RESP_ERR__FATAL)) {
        op->err = m->err;
        snprintf(op->errstr, sizeof op->errstr, "%s%s%s", m->rkt ? p_rd_kafka_topic_name(m->rkt) : "", m->rkt ? ": " : "", p_rd_kafka_err2str(m->err));
      }
    } else if (k < records) {
      const char *name = p_rd_kafka_topic_name(m->rkt);
      size_t t = 0;
      while (t < op->topic_count && strcmp(op->topics[t], name) != 0) t++;
      if (t == op->topic_count) {
        char *copy = strdup(name);
        if (!copy) {
          op->err = RD_KAFKA_RESP_ERR__FAIL;
          snprintf(op->errstr, sizeof op->errstr, "out of memory for a topic name");
          p_rd_kafka_message_destroy(m);
          continue;
        }
        op->topics[op->topic_count++] = copy;
      }
      int32_t *row = op->meta + k * META;
      row[0] = (int32_t)t; /* a handful of names: one changelog topic per store */
      row[1] = m->partition;
      row[2] = (int32_t)at;
      row[3] = m->key ? (int32_t)m->key_len : -1;
      if (m->key) memcpy(op->data + at, m->key, m->key_len), at += m->key_len;
      row[4] = (int32_t)at;
      row[5] = m->payload ? (int32_t)m->len : -1;
      if (m->payload) memcpy(op->data + at, m->payload, m->len), at += m->len;
      op->offsets[k++] = (double)m->offset;
    }
    p_rd_kafka_message_destroy(m);
  }
  free(msgs);
  op->count = k;
  op->data_len = at;
}

static void execute(napi_env env, void *data) {
  op_t *op = data;
  (void)env;
  if (op->kind == 0) consume_execute(op);
  else if (op->kind == 1)
    op->err = p_rd_kafka_query_watermark_offsets(op->r->rk, op->topic, op->partition, &op->low, &op->high, op->timeout_ms);
  else {
    p_rd_kafka_queue_destroy(op->r->queue);
    p_rd_kafka_consumer_close(op->r->rk);
    p_rd_kafka_destroy(op->r->rk);
  }
  if (op->err && !op->errstr[0]) snprintf(op->errstr, sizeof op->errstr, "%s", p_rd_kafka_err2str((rd_kafka_resp_err_t)op->err));
}

static void free_cb(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  free(data);
}

/* A typed array over memory this file allocated (or a copy, where Node refuses external memory). */
static napi_value typed(napi_env env, napi_typedarray_type type, void *mem, size_t count, size_t size) {
  napi_value ab, out;
  void *copy;
  if (napi_create_external_arraybuffer(env, mem, count * size, free_cb, NULL, &ab) != napi_ok) {
    napi_status copied = napi_create_arraybuffer(env, count * size, &copy, &ab);
    if (copied == napi_ok) memcpy(copy, mem, count * size);
    free(mem);
    if (copied != napi_ok) return NULL;
  }
  if (napi_create_typedarray(env, type, count, ab, 0, &out) != napi_ok) return NULL;
  return out;
}

static napi_value consume_result(napi_env env, op_t *op) {
  napi_value out, v, list;
  napi_create_object(env, &out);
  if (napi_create_external_buffer(env, op->data_len, op->data, free_cb, NULL, &v) != napi_ok) {
    void *copy;
    napi_status copied = napi_create_buffer_copy(env, op->data_len, op->data, &copy, &v);
    free(op->data);
    op->data = NULL;
    if (copied != napi_ok) return NULL;
  }
  op->data = NULL;
  napi_set_named_property(env, out, "data", v);
  napi_value meta = typed(env, napi_int32_array, op->meta, op->count * META, sizeof(int32_t));
  op->meta = NULL;
  napi_value offsets = typed(env, napi_float64_array, op->offsets, op->count, sizeof(double));
  op->offsets = NULL;
  if (!meta || !offsets) return NULL;
  napi_set_named_property(env, out, "meta", meta);
  napi_set_named_property(env, out, "offsets", offsets);
  napi_create_array_with_length(env, op->topic_count, &list);
  for (size_t i = 0; i < op->topic_count; i++) {
    napi_create_string_utf8(env, op->topics[i] ? op->topics[i] : "", NAPI_AUTO_LENGTH, &v);
    napi_set_element(env, list, (uint32_t)i, v);
  }
  napi_set_named_property(env, out, "topics", list);
  napi_create_array_with_length(env, op->eof_count, &list);
  for (size_t i = 0; i < op->eof_count; i++) {
    napi_value e, x;
    napi_create_object(env, &e);
    napi_create_string_utf8(env, op->eofs[i].topic ? op->eofs[i].topic : "", NAPI_AUTO_LENGTH, &x);
    napi_set_named_property(env, e, "topic", x);
    napi_create_int32(env, op->eofs[i].partition, &x);
    napi_set_named_property(env, e, "partition", x);
    napi_create_double(env, op->eofs[i].offset, &x);
    napi_set_named_property(env, e, "offset", x);
    napi_set_element(env, list, (uint32_t)i, e);
  }
  napi_set_named_property(env, out, "eof", list);
  return out;
}

static void complete(napi_env env, napi_status status, void *data) {
  op_t *op = data;
  napi_value cb, argv[2], global, x;
  napi_get_undefined(env, &argv[0]);
  napi_get_undefined(env, &argv[1]);
  if (op->err) {
    napi_value code, message;
    napi_create_int32(env, op->err, &code);
    napi_create_string_utf8(env, op->errstr, NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &argv[0]);
    napi_set_named_property(env, argv[0], "code", code);
  }
  if (op->kind == 0 && status == napi_ok) {
    napi_value batch = consume_result(env, op);
    if (batch) argv[1] = batch;
  }
  if (op->kind == 0 && !op->err) {
    /* Cancelled, or the batch could not be made: an error rather than nothing. */
    napi_valuetype t;
    if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_object) {
      napi_value code, message;
      napi_create_int32(env, RD_KAFKA_RESP_ERR__FAIL, &code);
      napi_create_string_utf8(env, "the batch could not be handed to JavaScript", NAPI_AUTO_LENGTH, &message);
      napi_create_error(env, NULL, message, &argv[0]);
      napi_set_named_property(env, argv[0], "code", code);
    }
  }
  if (op->kind == 1) {
    napi_create_object(env, &argv[1]);
    napi_create_double(env, (double)op->low, &x);
    napi_set_named_property(env, argv[1], "low", x);
    napi_create_double(env, (double)op->high, &x);
    napi_set_named_property(env, argv[1], "high", x);
  }
  op->r->busy = 0;
  if (op->kind == 2) op->r->closed = 1;
  napi_get_reference_value(env, op->callback, &cb);
  napi_get_global(env, &global);
  napi_call_function(env, global, cb, 2, argv, NULL);
  napi_delete_reference(env, op->callback);
  napi_delete_reference(env, op->self);
  napi_delete_async_work(env, op->work);
  free(op->data), free(op->meta), free(op->offsets);
  for (size_t i = 0; i < op->topic_count; i++) free(op->topics[i]);
  for (size_t i = 0; i < op->eof_count; i++) free(op->eofs[i].topic);
  free(op->topics), free(op->eofs), free(op);
}

/* Starts `op` on the pool for the reader argv[0]; the last argument is the callback. */
static napi_value start(napi_env env, napi_value handle, napi_value callback, op_t *op) {
  napi_value name;
  napi_valuetype type;
  if (napi_typeof(env, callback, &type) != napi_ok || type != napi_function) {
    free(op);
    return fail(env, "ERR_INVALID_ARG", "the last argument is a callback");
  }
  napi_create_string_utf8(env, "rdkafka-batch", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, execute, complete, op, &op->work) != napi_ok) {
    free(op);
    return fail(env, "ERR_NATIVE", "the operation could not be created");
  }
  if (napi_queue_async_work(env, op->work) != napi_ok) {
    napi_delete_async_work(env, op->work);
    free(op);
    return fail(env, "ERR_NATIVE", "the operation could not be queued");
  }
  op->r->busy = 1;
  napi_create_reference(env, handle, 1, &op->self);
  napi_create_reference(env, callback, 1, &op->callback);
  return NULL;
}

static op_t *new_op(napi_env env, reader_t *r, int kind) {
  op_t *op = calloc(1, sizeof *op);
  if (!op) fail(env, "ERR_NOMEM", "out of memory");
  else op->r = r, op->kind = kind;
  return op;
}

/* consume(handle, max, timeoutMs, callback(err, batch)) */
static napi_value consume(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t max, timeout;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) return fail(env, "ERR_INVALID_ARG", "consume(handle, max, timeoutMs, callback)");
  reader_t *r = unwrap(env, argv[0]);
  if (!r) return NULL;
  if (napi_get_value_int32(env, argv[1], &max) != napi_ok || max < 1 || max > MAX_BATCH || napi_get_value_int32(env, argv[2], &timeout) != napi_ok ||
      timeout < 0 || timeout > MAX_TIMEOUT_MS)
    return fail(env, "ERR_INVALID_ARG", "consume: max 1–1000000 records, timeout 0–60000 ms");
  op_t *op = new_op(env, r, 0);
  if (!op) return NULL;
  op->max = (size_t)max, op->timeout_ms = timeout;
  return start(env, argv[0], argv[3], op);
}

/* watermarks(handle, topic, partition, timeoutMs, callback(err, {low, high})) */
static napi_value watermarks(napi_env env, napi_callback_info info) {
  size_t argc = 5, len;
  napi_value argv[5];
  int32_t partition, timeout;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) return fail(env, "ERR_INVALID_ARG", "watermarks(handle, topic, partition, timeoutMs, callback)");
  reader_t *r = unwrap(env, argv[0]);
  if (!r) return NULL;
  op_t *op = new_op(env, r, 1);
  if (!op) return NULL;
  if (napi_get_value_string_utf8(env, argv[1], op->topic, sizeof op->topic, &len) != napi_ok || len == 0 || len >= sizeof op->topic - 1 ||
      napi_get_value_int32(env, argv[2], &partition) != napi_ok || partition < 0 || napi_get_value_int32(env, argv[3], &timeout) != napi_ok ||
      timeout < 0 || timeout > MAX_TIMEOUT_MS) {
    free(op);
    return fail(env, "ERR_INVALID_ARG", "watermarks: a topic (1–511 bytes), a partition >= 0, a timeout 0–60000 ms");
  }
  op->partition = partition, op->timeout_ms = timeout;
  return start(env, argv[0], argv[4], op);
}

/* close(handle, callback(err)): unassigns, closes and destroys the consumer; later calls are refused. */
static napi_value close_reader(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return fail(env, "ERR_INVALID_ARG", "close(handle, callback)");
  reader_t *r = unwrap(env, argv[0]);
  if (!r) return NULL;
  op_t *op = new_op(env, r, 2);
  return op ? start(env, argv[0], argv[1], op) : NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor fns[] = {
      {"load", NULL, load, NULL, NULL, NULL, napi_default, NULL},
      {"open", NULL, open_reader, NULL, NULL, NULL, napi_default, NULL},
      {"assign", NULL, assign, NULL, NULL, NULL, napi_default, NULL},
      {"consume", NULL, consume, NULL, NULL, NULL, napi_default, NULL},
      {"watermarks", NULL, watermarks, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_reader, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
  return exports;
}

NAPI_MODULE(rdkafka_batch, init)
