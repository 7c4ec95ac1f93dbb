/* A block's file records as (exchange time, value, offset, topic, partition), read in C.
 *
 * The typed replay's walk of a decompressed block body (values.py's `lean_records` is the same
 * walk in Python, and runs where this was not compiled). The contract is the general reader's
 * (`ocf.decode_records`, fastavro): what this returns is what that returns for the same block,
 * field for field; anything it does not read the usual way (a union branch other than null or
 * bytes, a negative length or block count, a varint past 64 bits, text that is not UTF-8, a body
 * that does not end with its last record) returns None and the general reader decides.
 *
 * Why C: the walk was a fifth of a typed replay's time in Python, for work that is a few
 * comparisons a field. The input is a file's bytes: every read is checked against the body's end.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const unsigned char *s;
    Py_ssize_t n;
    Py_ssize_t i;
} Cursor;

/* A varint of at most 64 bits (fastavro's long); 0 past the end or past 64 bits. */
static int varint(Cursor *c, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (c->i >= c->n)
            return 0;
        unsigned char b = c->s[c->i++];
        if (shift == 63 && b > 1)
            return 0;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 1;
        }
    }
    return 0;
}

static int long_value(Cursor *c, int64_t *out) {
    uint64_t raw;
    if (!varint(c, &raw))
        return 0;
    *out = (int64_t)((raw >> 1) ^ (~(raw & 1) + 1));
    return 1;
}

/* A length (bytes, string): not negative, within the body. */
static int length(Cursor *c, Py_ssize_t *out) {
    int64_t n;
    if (!long_value(c, &n) || n < 0 || n > c->n - c->i)
        return 0;
    *out = (Py_ssize_t)n;
    return 1;
}

/* A ["null", "bytes"] union: 1 with start/len set for bytes, 1 with start -1 for null. */
static int null_or_bytes(Cursor *c, Py_ssize_t *start, Py_ssize_t *len) {
    int64_t branch;
    if (!long_value(c, &branch))
        return 0;
    if (branch == 0) {
        *start = -1;
        *len = 0;
        return 1;
    }
    if (branch != 1 || !length(c, len))
        return 0;
    *start = c->i;
    c->i += *len;
    return 1;
}

/* Text the general reader decodes: valid UTF-8 or the block is not ours to read. */
static int utf8(const unsigned char *p, Py_ssize_t len) {
    PyObject *text = PyUnicode_DecodeUTF8((const char *)p, len, "strict");
    if (text == NULL) {
        PyErr_Clear();
        return 0;
    }
    Py_DECREF(text);
    return 1;
}

/* (key, headers): stepped over, header keys checked as text. */
static int key_and_headers(Cursor *c) {
    Py_ssize_t start, len;
    if (!null_or_bytes(c, &start, &len))
        return 0;
    for (;;) {
        int64_t count;
        if (!long_value(c, &count) || count < 0) /* a sized (negative) block: not ours */
            return 0;
        if (count == 0)
            return 1;
        for (int64_t k = 0; k < count; k++) {
            if (!length(c, &len) || !utf8(c->s + c->i, len))
                return 0;
            c->i += len;
            if (!null_or_bytes(c, &start, &len))
                return 0;
        }
    }
}

static int same(const Cursor *c, Py_ssize_t at, Py_ssize_t prev, Py_ssize_t len) {
    return prev >= 0 && len > 0 && at + len <= c->n &&
           memcmp(c->s + at, c->s + prev, (size_t)len) == 0;
}

PyDoc_STRVAR(lean_doc,
"lean_records(body, count) -> list[(ts, value, offset, topic, partition)] | None\n--\n\n"
"The `count` records of a decompressed block body, or None when it is not written the usual\n"
"way (the general reader then decides).");

static PyObject *lean_records(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "lean_records(body, count)");
        return NULL;
    }
    Py_ssize_t count = PyLong_AsSsize_t(args[1]);
    if (count == -1 && PyErr_Occurred())
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    Cursor c = {(const unsigned char *)view.buf, view.len, 0};
    PyObject *out = NULL, *topic = NULL, *partition_obj = NULL;
    /* The previous record's (type) and (key, headers) bytes, and its topic's: a block holds
     * one partition's records, so they mostly repeat and are then compared, not parsed. */
    Py_ssize_t type_at = -1, type_len = 0, kh_at = -1, kh_len = 0, topic_at = -1, topic_len = 0;
    int64_t partition = 0;
    /* a record takes 9 bytes at least: a count beyond that is a damaged header */
    if (count < 0 || count > c.n / 9 || (out = PyList_New(count)) == NULL)
        goto none_or_fail;
    for (Py_ssize_t r = 0; r < count; r++) {
        int64_t ts, part, offset, kafka_ts;
        Py_ssize_t len, at, vstart, vlen;
        if (!long_value(&c, &ts) || !length(&c, &len))
            goto none;
        at = c.i; /* type: text, stepped over */
        if (!same(&c, at, type_at, len) || len != type_len) {
            if (!utf8(c.s + at, len))
                goto none;
            type_at = at;
            type_len = len;
        }
        c.i += len;
        if (!length(&c, &len)) /* topic */
            goto none;
        at = c.i;
        if (topic == NULL || len != topic_len || (len && !same(&c, at, topic_at, len))) {
            PyObject *text = PyUnicode_DecodeUTF8((const char *)c.s + at, len, "strict");
            if (text == NULL) {
                PyErr_Clear();
                goto none;
            }
            Py_XSETREF(topic, text);
            topic_at = at;
            topic_len = len;
        }
        c.i += len;
        if (!long_value(&c, &part) || !long_value(&c, &offset) || !long_value(&c, &kafka_ts))
            goto none;
        (void)kafka_ts;
        if (partition_obj == NULL || part != partition) {
            PyObject *p = PyLong_FromLongLong(part);
            if (p == NULL)
                goto fail;
            Py_XSETREF(partition_obj, p);
            partition = part;
        }
        at = c.i; /* (key, headers): the previous record's bytes again, or parsed */
        if (kh_len && same(&c, at, kh_at, kh_len)) {
            c.i += kh_len; /* the same bytes parse the same: stepped over whole */
        } else {
            if (!key_and_headers(&c))
                goto none;
            kh_at = at;
            kh_len = c.i - at;
        }
        if (!null_or_bytes(&c, &vstart, &vlen))
            goto none;
        PyObject *value = vstart < 0 ? Py_NewRef(Py_None)
                                     : PyBytes_FromStringAndSize((const char *)c.s + vstart, vlen);
        PyObject *ts_obj = PyLong_FromLongLong(ts);
        PyObject *off_obj = PyLong_FromLongLong(offset);
        if (value == NULL || ts_obj == NULL || off_obj == NULL) {
            Py_XDECREF(value);
            Py_XDECREF(ts_obj);
            Py_XDECREF(off_obj);
            goto fail;
        }
        PyObject *item = PyTuple_New(5);
        if (item == NULL) {
            Py_DECREF(value);
            Py_DECREF(ts_obj);
            Py_DECREF(off_obj);
            goto fail;
        }
        PyTuple_SET_ITEM(item, 0, ts_obj);
        PyTuple_SET_ITEM(item, 1, value);
        PyTuple_SET_ITEM(item, 2, off_obj);
        PyTuple_SET_ITEM(item, 3, Py_NewRef(topic));
        PyTuple_SET_ITEM(item, 4, Py_NewRef(partition_obj));
        PyList_SET_ITEM(out, r, item);
    }
    if (c.i != c.n)
        goto none;
    goto done;
none_or_fail:
    if (PyErr_Occurred())
        goto fail;
none:
    Py_XDECREF(out);
    out = Py_NewRef(Py_None);
    goto done;
fail:
    Py_CLEAR(out);
done:
    Py_XDECREF(topic);
    Py_XDECREF(partition_obj);
    PyBuffer_Release(&view);
    return out;
}

static PyMethodDef methods[] = {
    {"lean_records", (PyCFunction)(void (*)(void))lean_records, METH_FASTCALL, lean_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_values", "A block's file records read in C (see values.py).",
    0, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__values(void) { return PyModule_Create(&module); }
