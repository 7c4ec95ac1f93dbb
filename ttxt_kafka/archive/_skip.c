/* Does an Avro body decode with its writer schema? skip.py's question, answered in C.
 *
 * skip.py compiles a schema into a small program (`native_program`): one node per value to step
 * over, in the order the body holds them. `Checker(program)(data, pos)` walks `data[pos:]` with it
 * and says whether it is exactly one value of the schema, with skip.py's generated skipper's
 * answer in every case (the tests compare both on every event schema, valid, cut and edited
 * bodies): every length in range, every union branch and enum index valid (a negative one counted
 * from the end, as fastavro takes it), varints of any length, the body ending where the schema
 * does. Like the skipper it does not check that strings are valid UTF-8.
 *
 * Why C: the recorder asks this of every record; the regular expression it used cost ~1-2.5 µs a
 * 10-level book, a third of the recorder's own time per record. The input is a Kafka value: every
 * read is checked against its end.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Nodes: [op, size (ints in the node, itself included), args..., children...] */
enum { OP_NULL, OP_LONG, OP_STRING, OP_SKIP, OP_ENUM, OP_RECORD, OP_UNION, OP_ARRAY, OP_MAP };
#define MAX_DEPTH 64

typedef struct {
    const unsigned char *s;
    Py_ssize_t n;
    Py_ssize_t i;
} Cursor;

/* An Avro long of any length (fastavro reads longer ones too). *big: its magnitude is 2^63 or
 * more, so it is in no range the schema allows (index, count, length). */
static int read_long(Cursor *c, int64_t *value, int *big) {
    uint64_t raw = 0;
    int shift = 0;
    *big = 0;
    for (;;) {
        if (c->i >= c->n)
            return 0;
        unsigned char b = c->s[c->i++];
        uint64_t bits = b & 0x7F;
        if (bits) {
            if (shift >= 64 || (shift > 57 && (bits >> (64 - shift)) != 0))
                *big = 1;
            else
                raw |= bits << shift;
        }
        if (!(b & 0x80))
            break;
        shift += 7;
    }
    *value = (int64_t)((raw >> 1) ^ (~(raw & 1) + 1));
    return 1;
}

static int skip_long(Cursor *c) {
    while (c->i < c->n)
        if (!(c->s[c->i++] & 0x80))
            return 1;
    return 0;
}

/* An index into `count` choices; a negative one counts from the end. -1: none of them. */
static int64_t index_of(int64_t index, int big, int64_t count) {
    if (big || index >= count || index < -count)
        return -1;
    return index < 0 ? index + count : index;
}

static int skip(const int32_t *node, Cursor *c, int depth);

static int skip_string(Cursor *c) {
    int64_t len;
    int big;
    if (!read_long(c, &len, &big) || big || len < 0 || len > c->n - c->i)
        return 0;
    c->i += (Py_ssize_t)len;
    return 1;
}

/* A value that takes no byte (null, or a record of nulls), as skip.py emits no step for it. */
static int zero_width(const int32_t *node) {
    if (node[0] == OP_NULL)
        return 1;
    if (node[0] != OP_RECORD)
        return 0;
    const int32_t *child = node + 3;
    for (int32_t f = 0; f < node[2]; f++, child += child[1])
        if (!zero_width(child))
            return 0;
    return 1;
}

static int skip_blocks(const int32_t *item, int map, Cursor *c, int depth) {
    int nothing = !map && zero_width(item); /* items of nothing: no bound, no steps */
    for (;;) {
        int64_t count, size;
        int big, big_size;
        if (!read_long(c, &count, &big))
            return 0;
        if (count < 0 && !big) { /* a negative count is followed by the block's byte size */
            if (!read_long(c, &size, &big_size))
                return 0;
            count = -count;
        }
        if (count == 0 && !big)
            return 1;
        if (nothing)
            continue;
        if (big || count > c->n) /* every item takes a byte at least: garbage */
            return 0;
        for (int64_t k = 0; k < count; k++)
            if ((map && !skip_string(c)) || !skip(item, c, depth + 1))
                return 0;
    }
}

static int skip(const int32_t *node, Cursor *c, int depth) {
    if (depth > MAX_DEPTH)
        return 0;
    switch (node[0]) {
    case OP_NULL:
        return 1;
    case OP_LONG:
        return skip_long(c);
    case OP_STRING:
        return skip_string(c);
    case OP_SKIP:
        if (node[2] > c->n - c->i)
            return 0;
        c->i += node[2];
        return 1;
    case OP_ENUM: {
        int64_t index;
        int big;
        return read_long(c, &index, &big) && index_of(index, big, node[2]) >= 0;
    }
    case OP_RECORD: {
        const int32_t *child = node + 3;
        for (int32_t f = 0; f < node[2]; f++, child += child[1])
            if (!skip(child, c, depth + 1))
                return 0;
        return 1;
    }
    case OP_UNION: {
        int64_t index;
        int big;
        if (!read_long(c, &index, &big))
            return 0;
        int64_t branch = index_of(index, big, node[2]);
        if (branch < 0)
            return 0;
        const int32_t *child = node + 3;
        for (int64_t b = 0; b < branch; b++)
            child += child[1];
        return skip(child, c, depth + 1);
    }
    case OP_ARRAY:
        return skip_blocks(node + 2, 0, c, depth);
    case OP_MAP:
        return skip_blocks(node + 2, 1, c, depth);
    }
    return 0;
}

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    int32_t *program;
    Py_ssize_t size;
} Checker;

static PyObject *checker_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf,
                                    PyObject *kwnames) {
    Checker *ch = (Checker *)self;
    if (PyVectorcall_NARGS(nargsf) != 2 || kwnames != NULL) {
        PyErr_SetString(PyExc_TypeError, "check(data, pos) takes 2 positional arguments");
        return NULL;
    }
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]);
    if (pos == -1 && PyErr_Occurred())
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    int ok = 0;
    if (pos >= 0 && pos <= view.len) {
        Cursor c = {(const unsigned char *)view.buf, view.len, pos};
        ok = skip(ch->program, &c, 0) && c.i == c.n;
    }
    PyBuffer_Release(&view);
    return PyBool_FromLong(ok);
}

/* The program must be well formed: every node's size within its parent, the children of a
 * record or union adding up to it, ops known. Checked once, so the walk trusts it. */
static Py_ssize_t valid_node(const int32_t *p, Py_ssize_t avail) {
    if (avail < 2 || p[1] < 2 || p[1] > avail)
        return -1;
    Py_ssize_t size = p[1], used;
    switch (p[0]) {
    case OP_NULL:
    case OP_LONG:
    case OP_STRING:
        return size == 2 ? size : -1;
    case OP_SKIP:
    case OP_ENUM:
        return size == 3 && p[2] >= 0 ? size : -1;
    case OP_RECORD:
    case OP_UNION:
        if (size < 3 || p[2] < 0 || (p[0] == OP_UNION && p[2] == 0))
            return -1;
        used = 3;
        for (int32_t k = 0; k < p[2]; k++) {
            Py_ssize_t child = valid_node(p + used, size - used);
            if (child < 0)
                return -1;
            used += child;
        }
        return used == size ? size : -1;
    case OP_ARRAY:
    case OP_MAP:
        used = valid_node(p + 2, size - 2);
        return used >= 0 && used + 2 == size ? size : -1;
    }
    return -1;
}

static PyObject *checker_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    PyObject *program;
    static char *keywords[] = {"program", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:Checker", keywords, &program))
        return NULL;
    PyObject *seq = PySequence_Fast(program, "program: a sequence of ints");
    if (seq == NULL)
        return NULL;
    Py_ssize_t size = PySequence_Fast_GET_SIZE(seq);
    int32_t *ints = PyMem_Malloc(sizeof(int32_t) * (size_t)(size ? size : 1));
    if (ints == NULL) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t k = 0; k < size; k++) {
        long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(seq, k));
        if ((v == -1 && PyErr_Occurred()) || v < INT32_MIN || v > INT32_MAX) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "program: ints of 32 bits");
            Py_DECREF(seq);
            PyMem_Free(ints);
            return NULL;
        }
        ints[k] = (int32_t)v;
    }
    Py_DECREF(seq);
    if (valid_node(ints, size) != size) {
        PyMem_Free(ints);
        PyErr_SetString(PyExc_ValueError, "program: not a well-formed node");
        return NULL;
    }
    Checker *ch = (Checker *)type->tp_alloc(type, 0);
    if (ch == NULL) {
        PyMem_Free(ints);
        return NULL;
    }
    ch->vectorcall = checker_vectorcall;
    ch->program = ints;
    ch->size = size;
    return (PyObject *)ch;
}

static void checker_dealloc(Checker *ch) {
    PyMem_Free(ch->program);
    Py_TYPE(ch)->tp_free((PyObject *)ch);
}

PyDoc_STRVAR(checker_doc,
"Checker(program)\n--\n\n"
"check(data, pos) -> bool: whether data[pos:] is exactly one value of the schema the program\n"
"was compiled from (skip.native_program).");

static PyTypeObject CheckerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ttxt_kafka.archive._skip.Checker",
    .tp_basicsize = sizeof(Checker),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = checker_doc,
    .tp_new = checker_new,
    .tp_dealloc = (destructor)checker_dealloc,
    .tp_vectorcall_offset = offsetof(Checker, vectorcall),
    .tp_call = PyVectorcall_Call,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_skip", "Avro body checks in C (see skip.py).",
    0, NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__skip(void) {
    if (PyType_Ready(&CheckerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddIntConstant(m, "OP_NULL", OP_NULL) < 0 ||
        PyModule_AddIntConstant(m, "OP_LONG", OP_LONG) < 0 ||
        PyModule_AddIntConstant(m, "OP_STRING", OP_STRING) < 0 ||
        PyModule_AddIntConstant(m, "OP_SKIP", OP_SKIP) < 0 ||
        PyModule_AddIntConstant(m, "OP_ENUM", OP_ENUM) < 0 ||
        PyModule_AddIntConstant(m, "OP_RECORD", OP_RECORD) < 0 ||
        PyModule_AddIntConstant(m, "OP_UNION", OP_UNION) < 0 ||
        PyModule_AddIntConstant(m, "OP_ARRAY", OP_ARRAY) < 0 ||
        PyModule_AddIntConstant(m, "OP_MAP", OP_MAP) < 0 ||
        PyModule_AddObjectRef(m, "Checker", (PyObject *)&CheckerType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
