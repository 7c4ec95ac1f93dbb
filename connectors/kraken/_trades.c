/* Kraken v2 trade pushes read in C.
 *
 * The same reader as trade_fastpath.py's pattern, character for character: the documented shape
 * `{"channel":"trade","type":"update","data":[{"symbol":…,"side":…,"price":<number>,
 * "qty":<number>,"ord_type":…,"trade_id":<int>,"timestamp":"…Z"},…]}` and nothing else. A number's
 * digits are copied from the text and padded to the pair's precision (never a float); the time is
 * integer arithmetic on its digits. Any deviation returns None and the Python decoder reads the
 * frame, so this only ever agrees with it (the tests compare both on captured and mutated frames).
 *
 * Why C: trades are Kraken's busiest channel and the pattern's per-trade cost in Python (match,
 * groups, padding, time) was twice what the whole frame may cost. The input is untrusted: every
 * read is bounds-checked against the string's length, and no fixed-size buffer is used.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MAX_PLACES 31 /* trade_fastpath's padding table: beyond it, the decoder reads the frame */

typedef struct {
    const char *s;
    Py_ssize_t n;
    Py_ssize_t i;
} Cursor;

typedef struct {
    Py_ssize_t whole, whole_end, frac, frac_end; /* frac == -1: no decimals */
} Number;

static int literal(Cursor *c, const char *text, Py_ssize_t len) {
    if (c->n - c->i < len || memcmp(c->s + c->i, text, (size_t)len) != 0)
        return 0;
    c->i += len;
    return 1;
}
#define LITERAL(c, text) literal((c), (text), (Py_ssize_t)sizeof(text) - 1)

static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }
static int is_symbol_char(char ch) {
    return (ch >= 'A' && ch <= 'Z') || is_digit(ch) || ch == '.' || ch == '/';
}
static int is_lower(char ch) { return ch >= 'a' && ch <= 'z'; }

/* One or more characters of a class; 0 if none. */
static int run_of(Cursor *c, int (*member)(char)) {
    Py_ssize_t start = c->i;
    while (c->i < c->n && member(c->s[c->i]))
        c->i++;
    return c->i > start;
}

/* (0|[1-9][0-9]*)(\.[0-9]+)? : a '.' without a digit after it is left for the next literal to
 * refuse, as the pattern's optional group does. */
static int number(Cursor *c, Number *num) {
    Py_ssize_t i = c->i;
    if (i >= c->n)
        return 0;
    num->whole = i;
    if (c->s[i] == '0') {
        i++;
    } else if (c->s[i] >= '1' && c->s[i] <= '9') {
        i++;
        while (i < c->n && is_digit(c->s[i]))
            i++;
    } else {
        return 0;
    }
    num->whole_end = i;
    num->frac = num->frac_end = -1;
    if (i < c->n && c->s[i] == '.') {
        Py_ssize_t j = i + 1;
        while (j < c->n && is_digit(c->s[j]))
            j++;
        if (j > i + 1) {
            num->frac = i + 1;
            num->frac_end = j;
            i = j;
        }
    }
    c->i = i;
    return 1;
}

/* The number with exactly `places` decimals. NULL without an error set: it carries more non-zero
 * decimals than that (the decoder then reports the frame). */
static PyObject *fixed(const char *s, const Number *num, Py_ssize_t places) {
    Py_ssize_t whole = num->whole_end - num->whole;
    Py_ssize_t frac = num->frac < 0 ? 0 : num->frac_end - num->frac;
    if (frac > places) {
        for (Py_ssize_t k = num->frac + places; k < num->frac_end; k++)
            if (s[k] != '0')
                return NULL;
        frac = places;
    }
    PyObject *out = PyUnicode_New(whole + (places ? 1 + places : 0), 127);
    if (out == NULL)
        return NULL;
    char *d = (char *)PyUnicode_1BYTE_DATA(out);
    memcpy(d, s + num->whole, (size_t)whole);
    if (places) {
        d[whole] = '.';
        if (frac)
            memcpy(d + whole + 1, s + num->frac, (size_t)frac);
        memset(d + whole + 1 + frac, '0', (size_t)(places - frac));
    }
    return out;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : days[m - 1];
}

static int digits(const char *p, int count, int *value) {
    int v = 0;
    for (int k = 0; k < count; k++) {
        if (!is_digit(p[k]))
            return 0;
        v = v * 10 + (p[k] - '0');
    }
    *value = v;
    return 1;
}

/* YYYY-MM-DDTHH:MM:SS.ffffffZ"} -> µs since the epoch. The date, hour and minute must be a real
 * time (as datetime.fromisoformat checks); the seconds are any two digits, as in the pattern. */
static int timestamp(Cursor *c, int64_t *us) {
    static const Py_ssize_t LEN = 29; /* 27 characters of time, then "} */
    if (c->n - c->i < LEN)
        return 0;
    const char *p = c->s + c->i;
    int y, mo, d, h, mi, sec, micro;
    if (!digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) || p[7] != '-' ||
        !digits(p + 8, 2, &d) || p[10] != 'T' || !digits(p + 11, 2, &h) || p[13] != ':' ||
        !digits(p + 14, 2, &mi) || p[16] != ':' || !digits(p + 17, 2, &sec) || p[19] != '.' ||
        !digits(p + 20, 6, &micro) || p[26] != 'Z' || p[27] != '"' || p[28] != '}')
        return 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59)
        return 0;
    int64_t minute = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60) * 1000000;
    *us = minute + (int64_t)sec * 1000000 + micro;
    c->i += LEN;
    return 1;
}

/* (price decimals, qty decimals) of a pair. -1 with an error set: not a pair of ints;
 * 0: out of the supported range (the decoder reads the frame); 1: set. */
static int places_of(PyObject *pair, Py_ssize_t *price, Py_ssize_t *qty) {
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
        PyErr_SetString(PyExc_TypeError, "places: a (price, qty) tuple of decimals");
        return -1;
    }
    *price = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 0));
    if (*price == -1 && PyErr_Occurred())
        return -1;
    *qty = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 1));
    if (*qty == -1 && PyErr_Occurred())
        return -1;
    return *price >= 0 && *price <= MAX_PLACES && *qty >= 0 && *qty <= MAX_PLACES;
}

static const char PREFIX[] = "{\"channel\":\"trade\",\"type\":\"update\",\"data\":[";

/* A reader bound to one normalizer: its venue, pair precisions, symbol names and the event
 * constructors, so a call costs one C call and the constructors' own. */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *venue, *places, *default_places, *name, *buy, *sell, *new_trade, *new_trades;
} Reader;

static PyObject *read_push(Reader *r, PyObject *raw, PyObject *receive_ts);

static PyObject *reader_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf,
                                   PyObject *kwnames) {
    if (PyVectorcall_NARGS(nargsf) != 2 || kwnames != NULL) {
        PyErr_SetString(PyExc_TypeError, "reader(raw, receive_ts) takes 2 positional arguments");
        return NULL;
    }
    if (!PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "reader(): raw must be a str");
        return NULL;
    }
    return read_push((Reader *)self, args[0], args[1]);
}

/* The Trades event of a push whose trades are all of one symbol, as a one-item list. None when
 * the frame is not in the documented shape, a number has more decimals than its pair's
 * precision, or the push mixes symbols (the decoder groups those). */
static PyObject *read_push(Reader *r, PyObject *raw, PyObject *receive_ts) {
    if (!PyUnicode_IS_ASCII(raw)) /* the shape is ASCII throughout */
        Py_RETURN_NONE;
    Cursor c = {(const char *)PyUnicode_1BYTE_DATA(raw), PyUnicode_GET_LENGTH(raw), 0};
    if (!LITERAL(&c, PREFIX))
        Py_RETURN_NONE;

    PyObject *native = NULL, *trades = NULL, *last_us = NULL, *result = NULL;
    Py_ssize_t native_at = 0, native_len = 0, pp = 0, qp = 0;
    trades = PyList_New(0);
    if (trades == NULL)
        return NULL;
    for (;;) {
        Number price, qty;
        Py_ssize_t sym, sym_len, tid, tid_end;
        PyObject *side;
        int64_t us;
        if (!LITERAL(&c, "{\"symbol\":\""))
            goto none;
        sym = c.i;
        if (!run_of(&c, is_symbol_char))
            goto none;
        sym_len = c.i - sym;
        if (!LITERAL(&c, "\",\"side\":\""))
            goto none;
        if (LITERAL(&c, "buy"))
            side = r->buy;
        else if (LITERAL(&c, "sell"))
            side = r->sell;
        else
            goto none;
        if (!LITERAL(&c, "\",\"price\":") || !number(&c, &price) || !LITERAL(&c, ",\"qty\":") ||
            !number(&c, &qty) || !LITERAL(&c, ",\"ord_type\":\"") || !run_of(&c, is_lower) ||
            !LITERAL(&c, "\",\"trade_id\":"))
            goto none;
        tid = c.i;
        if (!run_of(&c, is_digit))
            goto none;
        tid_end = c.i;
        if (!LITERAL(&c, ",\"timestamp\":\"") || !timestamp(&c, &us))
            goto none;

        if (native == NULL) {
            native = PyUnicode_Substring(raw, sym, sym + sym_len);
            if (native == NULL)
                goto fail;
            PyObject *pair = PyDict_GetItemWithError(r->places, native);
            if (pair == NULL && PyErr_Occurred())
                goto fail;
            int got = places_of(pair ? pair : r->default_places, &pp, &qp);
            if (got < 0)
                goto fail;
            if (got == 0)
                goto none;
            native_at = sym;
            native_len = sym_len;
        } else if (sym_len != native_len ||
                   memcmp(c.s + sym, c.s + native_at, (size_t)sym_len) != 0) {
            goto none;
        }

        PyObject *call[5] = {NULL, NULL, NULL, side, NULL};
        call[1] = fixed(c.s, &price, pp);
        if (call[1] == NULL)
            goto refused;
        call[2] = fixed(c.s, &qty, qp);
        if (call[2] == NULL) {
            Py_DECREF(call[1]);
            goto refused;
        }
        call[0] = PyUnicode_Substring(raw, tid, tid_end);
        call[4] = PyLong_FromLongLong(us);
        PyObject *trade = (call[0] && call[4])
                              ? PyObject_Vectorcall(r->new_trade, call, 5, NULL) : NULL;
        Py_XDECREF(call[0]);
        Py_DECREF(call[1]);
        Py_DECREF(call[2]);
        Py_XSETREF(last_us, call[4]);
        if (trade == NULL || PyList_Append(trades, trade) < 0) {
            Py_XDECREF(trade);
            goto fail;
        }
        Py_DECREF(trade);

        if (LITERAL(&c, ","))
            continue;
        if (LITERAL(&c, "]}") && c.i == c.n)
            break;
        goto none;
    }
    {
        PyObject *symbol = PyObject_CallOneArg(r->name, native);
        if (symbol == NULL)
            goto fail;
        PyObject *call[7] = {r->venue, symbol, native, last_us, receive_ts, Py_None, trades};
        PyObject *event = PyObject_Vectorcall(r->new_trades, call, 7, NULL);
        Py_DECREF(symbol);
        if (event == NULL)
            goto fail;
        result = PyList_New(1);
        if (result == NULL) {
            Py_DECREF(event);
            goto fail;
        }
        PyList_SET_ITEM(result, 0, event);
    }
    goto done;
refused:
    if (PyErr_Occurred())
        goto fail;
none:
    result = Py_NewRef(Py_None);
    goto done;
fail:
    result = NULL;
done:
    Py_XDECREF(native);
    Py_XDECREF(trades);
    Py_XDECREF(last_us);
    return result;
}

static PyObject *reader_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"venue", "places", "default_places", "name", "buy", "sell",
                               "new_trade", "new_trades", NULL};
    PyObject *f[8];
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "UO!O!OOOOO:Reader", keywords, &f[0],
                                     &PyDict_Type, &f[1], &PyTuple_Type, &f[2], &f[3], &f[4],
                                     &f[5], &f[6], &f[7]))
        return NULL;
    Py_ssize_t pp, qp;
    if (places_of(f[2], &pp, &qp) < 0)
        return NULL;
    Reader *r = (Reader *)type->tp_alloc(type, 0);
    if (r == NULL)
        return NULL;
    r->vectorcall = reader_vectorcall;
    PyObject **slots[8] = {&r->venue, &r->places, &r->default_places, &r->name, &r->buy,
                           &r->sell, &r->new_trade, &r->new_trades};
    for (int k = 0; k < 8; k++)
        *slots[k] = Py_NewRef(f[k]);
    return (PyObject *)r;
}

static int reader_traverse(Reader *r, visitproc visit, void *arg) {
    Py_VISIT(r->venue);
    Py_VISIT(r->places);
    Py_VISIT(r->default_places);
    Py_VISIT(r->name);
    Py_VISIT(r->buy);
    Py_VISIT(r->sell);
    Py_VISIT(r->new_trade);
    Py_VISIT(r->new_trades);
    return 0;
}

static int reader_clear(Reader *r) {
    Py_CLEAR(r->venue);
    Py_CLEAR(r->places);
    Py_CLEAR(r->default_places);
    Py_CLEAR(r->name);
    Py_CLEAR(r->buy);
    Py_CLEAR(r->sell);
    Py_CLEAR(r->new_trade);
    Py_CLEAR(r->new_trades);
    return 0;
}

static void reader_dealloc(Reader *r) {
    PyObject_GC_UnTrack(r);
    reader_clear(r);
    Py_TYPE(r)->tp_free((PyObject *)r);
}

PyDoc_STRVAR(reader_doc,
"Reader(venue, places, default_places, name, buy, sell, new_trade, new_trades)\n--\n\n"
"reader(raw, receive_ts) -> [Trades] for a trade push in the documented shape, else None.\n"
"places: native symbol -> (price decimals, qty decimals), read at each call (it may grow);\n"
"name: native -> normalized symbol; buy/sell: the Side values; new_trade(trade_id, price,\n"
"qty, side, exchange_ts) and new_trades(venue, symbol, native, exchange_ts, receive_ts,\n"
"sequence, trades): the events' positional constructors.");

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ttxt_kafka.connectors.kraken._trades.Reader",
    .tp_basicsize = sizeof(Reader),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = reader_doc,
    .tp_new = reader_new,
    .tp_traverse = (traverseproc)reader_traverse,
    .tp_clear = (inquiry)reader_clear,
    .tp_dealloc = (destructor)reader_dealloc,
    .tp_vectorcall_offset = offsetof(Reader, vectorcall),
    .tp_call = PyVectorcall_Call,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_trades", "Kraken v2 trade pushes read in C (see trade_fastpath).",
    0, NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__trades(void) {
    if (PyType_Ready(&ReaderType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Reader", (PyObject *)&ReaderType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
