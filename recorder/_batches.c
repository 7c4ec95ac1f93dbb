/* The records of one Kafka record batch (message format v2), read in C for the recorder.
 *
 * `records(data, start, end, count, base_offset, first_ts, max_ts, log_append_time,
 * min_offset)` reads the `count` records between `start` and `end` of `data` (the batch's
 * records section, decompressed) and returns a list of `KafkaRecord`s (offset, timestamp, key,
 * value, headers): the same fields, with the same values, as aiokafka's ConsumerRecords of those
 * records (headers a tuple of (str, bytes | None) pairs). A record below `min_offset`, or not
 * above the record before it, is read and left out, as aiokafka leaves it out (a fetch may start
 * inside a batch).
 *
 * Why C: aiokafka builds three objects and runs two Python functions per record (its record,
 * the ConsumerRecord, the generator step), ≈ 2 µs a record: as much as the recorder's whole
 * routing and writing. Here a record costs its value's bytes and one small struct; a key or a
 * headers block equal, byte for byte, to the previous record's is the same object again (one
 * ticker per partition is the usual case, and the recorder's route lookup then compares by
 * identity).
 *
 * The layout (Kafka's DefaultRecord): length varint, attributes int8, timestampDelta varlong,
 * offsetDelta varint, key (varint length, -1: null), value (likewise), header count varint,
 * then per header a key (varint length, UTF-8) and a value (varint length, -1: null). Varints
 * are zigzag. Every length is checked against the record's and the section's end; a record
 * whose fields do not fill exactly its length, or a section with bytes after its `count`
 * records, is an error (ValueError), as it is for aiokafka (CorruptRecordException).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static PyTypeObject *record_type;

static PyStructSequence_Field record_fields[] = {
    {"offset", "the record's offset"},
    {"timestamp", "ms since the epoch (create time, or the log append time)"},
    {"key", "bytes or None"},
    {"value", "bytes or None"},
    {"headers", "a tuple of (str, bytes | None)"},
    {NULL, NULL},
};

static PyStructSequence_Desc record_desc = {
    "ttxt_kafka.recorder._batches.KafkaRecord",
    "A record of a Kafka record batch, as the recorder reads it.",
    record_fields,
    5,
};

/* A zigzag varint of at most 10 bytes; 0 if cut short or too long. */
static int read_varint(const unsigned char *p, Py_ssize_t *pos, Py_ssize_t end, int64_t *out) {
    uint64_t z = 0;
    int shift = 0;
    while (*pos < end) {
        unsigned char b = p[(*pos)++];
        z |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
            return 1;
        }
        shift += 7;
        if (shift > 63)
            return 0;
    }
    return 0;
}

/* A nullable field's length (-1: null) and where its bytes start; `*pos` moves past them. */
static int read_field(const unsigned char *p, Py_ssize_t *pos, Py_ssize_t end, int64_t *len,
                      Py_ssize_t *at) {
    if (!read_varint(p, pos, end, len) || *len < -1 || *len > end - *pos)
        return 0;
    *at = *pos;
    if (*len > 0)
        *pos += (Py_ssize_t)*len;
    return 1;
}

static PyObject *corrupt(const char *what, Py_ssize_t at) {
    PyErr_Format(PyExc_ValueError, "corrupt record batch: %s (at byte %zd)", what, at);
    return NULL;
}

/* bytes of `len` at `pos`, or None for -1; reuses `*prev` when its bytes are the same. */
static PyObject *nullable_bytes(const unsigned char *p, Py_ssize_t pos, int64_t len,
                                PyObject **prev) {
    if (len < 0)
        return Py_NewRef(Py_None);
    if (prev != NULL && *prev != NULL && *prev != Py_None &&
        PyBytes_GET_SIZE(*prev) == (Py_ssize_t)len &&
        memcmp(PyBytes_AS_STRING(*prev), p + pos, (size_t)len) == 0)
        return Py_NewRef(*prev);
    PyObject *b = PyBytes_FromStringAndSize((const char *)p + pos, (Py_ssize_t)len);
    if (b != NULL && prev != NULL)
        Py_XSETREF(*prev, Py_NewRef(b));
    return b;
}

static PyObject *read_headers(const unsigned char *p, Py_ssize_t *pos, Py_ssize_t end,
                              int64_t n) {
    if (n < 0 || n > end - *pos)
        return corrupt("invalid header count", *pos);
    PyObject *headers = PyTuple_New((Py_ssize_t)n);
    if (headers == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < (Py_ssize_t)n; i++) {
        int64_t klen, vlen;
        if (!read_varint(p, pos, end, &klen) || klen < 0 || klen > end - *pos) {
            Py_DECREF(headers);
            return corrupt("invalid header key", *pos);
        }
        PyObject *k = PyUnicode_DecodeUTF8((const char *)p + *pos, (Py_ssize_t)klen, NULL);
        if (k == NULL) {
            Py_DECREF(headers);
            return NULL;
        }
        *pos += (Py_ssize_t)klen;
        Py_ssize_t vpos;
        if (!read_field(p, pos, end, &vlen, &vpos)) {
            Py_DECREF(k);
            Py_DECREF(headers);
            return corrupt("invalid header value", *pos);
        }
        PyObject *v = nullable_bytes(p, vpos, vlen, NULL);
        PyObject *pair = v ? PyTuple_Pack(2, k, v) : NULL;
        Py_DECREF(k);
        Py_XDECREF(v);
        if (pair == NULL) {
            Py_DECREF(headers);
            return NULL;
        }
        PyTuple_SET_ITEM(headers, i, pair);
    }
    return headers;
}

PyDoc_STRVAR(records_doc,
"records(data, start, end, count, base_offset, first_ts, max_ts, log_append_time, min_offset)\n"
"--\n\n"
"The `count` records of `data[start:end]` (a v2 batch's records section, decompressed) at or\n"
"above `min_offset`, as a list of KafkaRecord. ValueError if the section is corrupt.");

static PyObject *records(PyObject *module, PyObject *args) {
    (void)module;
    Py_buffer view;
    Py_ssize_t start, end;
    long long count, base_offset, first_ts, max_ts, min_offset;
    int log_append_time;
    if (!PyArg_ParseTuple(args, "y*nnLLLLpL:records", &view, &start, &end, &count,
                          &base_offset, &first_ts, &max_ts, &log_append_time, &min_offset))
        return NULL;
    PyObject *out = NULL, *prev_key = NULL, *prev_headers = NULL;
    const unsigned char *p = (const unsigned char *)view.buf;
    const unsigned char *prev_hstart = NULL;
    Py_ssize_t prev_hlen = -1, at = start;
    const char *what = NULL; /* what is corrupt, at byte `at` */
    if (start < 0 || end < start || end > view.len || count < 0) {
        PyErr_SetString(PyExc_ValueError, "records(): start/end outside the data");
        goto done;
    }
    out = PyList_New(0);
    if (out == NULL)
        goto done;
    Py_ssize_t pos = start;
    for (long long i = 0; i < count; i++) {
        int64_t length, ts_delta, offset_delta, klen, vlen, nheaders;
        at = pos;
        if (!read_varint(p, &pos, end, &length) || length < 0 || length > end - pos) {
            what = "invalid record length";
            goto bad;
        }
        Py_ssize_t rend = pos + (Py_ssize_t)length;
        pos += 1; /* attributes: unused */
        if (pos > rend || !read_varint(p, &pos, rend, &ts_delta) ||
            !read_varint(p, &pos, rend, &offset_delta)) {
            what = "record cut short";
            goto bad;
        }
        long long offset = base_offset + offset_delta;
        int skip = offset < min_offset; /* read all the same: a corrupt one is an error */
        Py_ssize_t kpos, vpos;
        if (!read_field(p, &pos, rend, &klen, &kpos) || !read_field(p, &pos, rend, &vlen, &vpos)) {
            what = "invalid key or value length";
            goto bad;
        }
        Py_ssize_t hstart = pos;
        if (!read_varint(p, &pos, rend, &nheaders)) {
            what = "invalid header count";
            goto bad;
        }
        PyObject *headers;
        if (prev_headers != NULL && rend - hstart == prev_hlen &&
            memcmp(p + hstart, prev_hstart, (size_t)prev_hlen) == 0) {
            headers = Py_NewRef(prev_headers); /* the same bytes: the same headers */
            pos = rend;
        } else {
            headers = read_headers(p, &pos, rend, nheaders);
            if (headers == NULL)
                goto fail;
            if (pos != rend) {
                Py_DECREF(headers);
                what = "record fields do not fill its length";
                goto bad;
            }
            Py_XSETREF(prev_headers, Py_NewRef(headers));
            prev_hstart = p + hstart;
            prev_hlen = rend - hstart;
        }
        if (skip) {
            Py_DECREF(headers);
            continue;
        }
        PyObject *rec = PyStructSequence_New(record_type);
        PyObject *key = nullable_bytes(p, kpos, klen, &prev_key);
        PyObject *value = nullable_bytes(p, vpos, vlen, NULL);
        PyObject *o = PyLong_FromLongLong(offset);
        PyObject *t = PyLong_FromLongLong(log_append_time ? max_ts : first_ts + ts_delta);
        if (rec == NULL || key == NULL || value == NULL || o == NULL || t == NULL) {
            Py_XDECREF(rec);
            Py_XDECREF(key);
            Py_XDECREF(value);
            Py_XDECREF(o);
            Py_XDECREF(t);
            Py_DECREF(headers);
            goto fail;
        }
        PyStructSequence_SET_ITEM(rec, 0, o);
        PyStructSequence_SET_ITEM(rec, 1, t);
        PyStructSequence_SET_ITEM(rec, 2, key);
        PyStructSequence_SET_ITEM(rec, 3, value);
        PyStructSequence_SET_ITEM(rec, 4, headers);
        int rc = PyList_Append(out, rec);
        Py_DECREF(rec);
        if (rc < 0)
            goto fail;
        min_offset = offset + 1; /* offsets only go up: one that does not is left out */
    }
    if (pos == end)
        goto done;
    what = "bytes after the batch's last record";
    at = pos;
bad:
    corrupt(what, at);
fail:
    Py_CLEAR(out);
done:
    Py_XDECREF(prev_key);
    Py_XDECREF(prev_headers);
    PyBuffer_Release(&view);
    return out;
}

static PyMethodDef methods[] = {
    {"records", records, METH_VARARGS, records_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_batches", "Kafka record batches read in C (see raw_fetch.py).",
    0, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__batches(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    record_type = PyStructSequence_NewType(&record_desc);
    if (record_type == NULL || PyModule_AddObjectRef(m, "KafkaRecord",
                                                     (PyObject *)record_type) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
