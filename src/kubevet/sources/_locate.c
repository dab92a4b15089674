/* BlockText.locate (locate.py) for a whole document's paths at once: the line of the deepest
 * existing node along each path in block-style YAML text. The same steps as the Python, read
 * line by line: a field line was computed for every finding, and walking keys with Python
 * string calls cost more than the rules that found them. Only ASCII text is read here (then a
 * character is a byte and Python's whitespace is the ASCII set below); any other text, or a
 * path part that is neither str nor int, returns None and the caller uses locate.py.
 * Optional: without a compiler, locate.py answers alone (same lines).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define LEAF (-2)     /* the node has no children to descend into (as in locate.py) */
#define UNKNOWN (-3)  /* a column not computed yet */
#define NONE (-1)

typedef struct {
    const char *s;
    Py_ssize_t n;
    Py_ssize_t *starts; /* offset where each line begins */
    Py_ssize_t lines;
    int *cols;          /* content column per line, computed on first use */
} Doc;

typedef struct {
    Py_ssize_t line, col; /* where the node's content is */
    Py_ssize_t found;     /* the line shown for it */
} State;

typedef enum { STEP_OK, STEP_NONE, STEP_FLOW } Step;

static int is_space(char c) /* str.isspace() on an ASCII character */
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static const char *line_at(const Doc *d, Py_ssize_t i, Py_ssize_t *len)
{
    Py_ssize_t end = i + 1 < d->lines ? d->starts[i + 1] - 1 : d->n;
    *len = end - d->starts[i];
    return d->s + d->starts[i];
}

static int col_of(Doc *d, Py_ssize_t i) /* _content_col: -1 for blank and comment lines */
{
    if (d->cols[i] != UNKNOWN)
        return d->cols[i];
    Py_ssize_t len, k = 0;
    const char *t = line_at(d, i, &len);
    while (k < len && t[k] == ' ')
        k++;
    int col = (int)k;
    if (k == len || t[k] == '#' || (t[k] == '\r' && k + 1 == len))
        col = -1;
    d->cols[i] = col;
    return col;
}

static int dash_at(const Doc *d, Py_ssize_t i, Py_ssize_t col) /* startswith("- ", col) */
{
    Py_ssize_t len;
    const char *t = line_at(d, i, &len);
    return col >= 0 && col + 2 <= len && t[col] == '-' && t[col + 1] == ' ';
}

static int dash_only(const Doc *d, Py_ssize_t i, Py_ssize_t col) /* text[col:] == "-" */
{
    Py_ssize_t len;
    const char *t = line_at(d, i, &len);
    return col >= 0 && len - col == 1 && t[col] == '-';
}

static Py_ssize_t next_content(Doc *d, Py_ssize_t i)
{
    for (Py_ssize_t j = i + 1; j < d->lines; j++)
        if (col_of(d, j) >= 0)
            return j;
    return NONE;
}

/* _key_at: the key of a `key: value` line whose key starts at col; its text in *key, *klen
 * and its length as written in *written. */
static int key_at(const Doc *d, Py_ssize_t i, Py_ssize_t col, const char **key,
                  Py_ssize_t *klen, Py_ssize_t *written)
{
    Py_ssize_t len;
    const char *t = line_at(d, i, &len);
    if (col < 0 || col > len)
        return 0;
    if (col < len && (t[col] == '\'' || t[col] == '"')) {
        const char *end = memchr(t + col + 1, t[col], (size_t)(len - col - 1));
        if (end == NULL)
            return 0;
        Py_ssize_t e = end - t;
        if (e + 1 >= len || t[e + 1] != ':')
            return 0;
        if (e + 2 < len && t[e + 2] != ' ' && t[e + 2] != '\r' && t[e + 2] != '\t')
            return 0;
        *key = t + col + 1, *klen = e - col - 1, *written = e + 1 - col;
        return 1;
    }
    for (Py_ssize_t at = col; at < len; at++) {
        if (t[at] != ':')
            continue;
        if (at + 1 >= len || t[at + 1] == ' ' || t[at + 1] == '\r' || t[at + 1] == '\t') {
            *key = t + col, *klen = at - col, *written = at - col;
            return 1;
        }
    }
    return 0;
}

static int is_key_line(const Doc *d, Py_ssize_t i, Py_ssize_t col)
{
    Py_ssize_t len;
    const char *t = line_at(d, i, &len);
    if (col < 0 || col >= len)
        return 0;
    const char *colon = memchr(t + col, ':', (size_t)(len - col));
    if (colon == NULL || colon - t <= col)
        return 0;
    Py_ssize_t c = colon - t;
    return c + 1 >= len || t[c + 1] == ' ';
}

static int same_key(const Doc *d, Py_ssize_t i, Py_ssize_t col, const char *want,
                    Py_ssize_t wlen, Py_ssize_t *written)
{
    const char *key;
    Py_ssize_t klen;
    if (dash_at(d, i, col) || !key_at(d, i, col, &key, &klen, written))
        return 0;
    return klen == wlen && memcmp(key, want, (size_t)wlen) == 0;
}

/* _find_key: the first line of the mapping at (line, col) whose key is `want`. The lines
 * of the mapping are those after `line` indented exactly `col` (a line indented less ends
 * it; blank, comment and deeper lines are passed over), as locate.py's pattern reads them. */
static Py_ssize_t find_key(Doc *d, Py_ssize_t line, Py_ssize_t col, const char *want,
                           Py_ssize_t wlen, Py_ssize_t *written)
{
    if (same_key(d, line, col, want, wlen, written))
        return line;
    for (Py_ssize_t i = line + 1; i < d->lines; i++) {
        Py_ssize_t len, m = 0;
        const char *t = line_at(d, i, &len);
        while (m < len && t[m] == ' ' && m <= col)
            m++;
        if (m > col || m >= len || t[m] == '\r' || t[m] == '#')
            continue; /* deeper, blank or a comment: the pattern does not stop there */
        if (m < col)
            return NONE;
        if (same_key(d, i, col, want, wlen, written))
            return i;
    }
    return NONE;
}

static Step value_of(Doc *d, Py_ssize_t i, Py_ssize_t col, Py_ssize_t written, State *out)
{
    Py_ssize_t len, k = col + written + 1;
    const char *t = line_at(d, i, &len);
    while (k < len && is_space(t[k]))
        k++;
    out->found = i;
    if (k < len && t[k] != '#' && t[k] != '&' && t[k] != '!') {
        out->line = i, out->col = LEAF; /* an inline scalar, block scalar or flow node */
        return STEP_OK;
    }
    Py_ssize_t j = next_content(d, i);
    int cj = j == NONE ? -1 : col_of(d, j);
    if (j != NONE && (cj > col || (cj == col && dash_at(d, j, col))))
        out->line = j, out->col = cj;
    else
        out->line = i, out->col = LEAF;
    return STEP_OK;
}

static Step item(Doc *d, Py_ssize_t line, Py_ssize_t col, Py_ssize_t index, State *out)
{
    Py_ssize_t n = 0;
    for (Py_ssize_t i = line; i != NONE; i = next_content(d, i)) {
        Py_ssize_t c = i != line ? col_of(d, i) : col;
        if (c < col)
            return STEP_NONE;
        if (c != col)
            continue;
        if (!dash_at(d, i, col) && !dash_only(d, i, col))
            return STEP_NONE; /* the sequence ended (a sibling key at this column) */
        if (n == index) {
            Py_ssize_t len, inner = col + 1;
            const char *t = line_at(d, i, &len);
            while (inner < len && is_space(t[inner]))
                inner++;
            if (inner < len && t[inner] != '#') {
                out->found = i, out->line = i, out->col = inner;
                return STEP_OK;
            }
            Py_ssize_t j = next_content(d, i);
            if (j == NONE || col_of(d, j) <= col)
                return STEP_NONE;
            out->found = i, out->line = j, out->col = col_of(d, j);
            return STEP_OK;
        }
        n++;
    }
    return STEP_NONE;
}

/* _child: one step from the node at `at` by `part` (a str key or an int index). */
static Step child(Doc *d, const State *at, PyObject *part, State *out)
{
    if (at->col == LEAF)
        return STEP_NONE;
    if (PyLong_Check(part)) {
        if (!dash_at(d, at->line, at->col) && !dash_only(d, at->line, at->col))
            return is_key_line(d, at->line, at->col) ? STEP_NONE : STEP_FLOW;
        Py_ssize_t index = PyLong_AsSsize_t(part);
        if (index == -1 && PyErr_Occurred())
            PyErr_Clear(); /* past any sequence: never reached, as in locate.py */
        return item(d, at->line, at->col, index, out);
    }
    if (dash_at(d, at->line, at->col))
        return STEP_NONE;
    Py_ssize_t wlen, written;
    const char *want = PyUnicode_AsUTF8AndSize(part, &wlen);
    if (want == NULL) { /* a lone surrogate: equal to no key of ASCII text */
        PyErr_Clear();
        return STEP_NONE;
    }
    Py_ssize_t i = find_key(d, at->line, at->col, want, wlen, &written);
    if (i == NONE)
        return STEP_NONE;
    return value_of(d, i, at->col, written, out);
}

static int first_node(Doc *d, State *out)
{
    for (Py_ssize_t i = 0; i < d->lines; i++) {
        int c = col_of(d, i);
        Py_ssize_t len;
        const char *t = line_at(d, i, &len);
        if (c < 0 || (len >= 3 && memcmp(t, "---", 3) == 0) || (len >= 1 && t[0] == '%'))
            continue;
        if (t[c] == '{' || t[c] == '[' || t[c] == '"' || t[c] == '\'')
            return 0; /* JSON or flow style */
        out->line = i, out->col = c, out->found = i;
        return 1;
    }
    return 0;
}

static int parts_ok(PyObject *paths)
{
    Py_ssize_t count = PyList_GET_SIZE(paths);
    for (Py_ssize_t p = 0; p < count; p++) {
        PyObject *path = PyList_GET_ITEM(paths, p);
        if (!PyTuple_CheckExact(path))
            return 0;
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(path); k++) {
            PyObject *part = PyTuple_GET_ITEM(path, k);
            /* exact types: comparing them never runs Python code (a subclass's __eq__
             * could change the list being walked) */
            if (!PyUnicode_CheckExact(part) && !PyLong_CheckExact(part) && !PyBool_Check(part))
                return 0;
        }
    }
    return 1;
}

/* The line of each path, the walk resumed from the longest prefix it shares with the path
 * before it (a document's findings come object by object, container by container). */
static PyObject *walk_all(Doc *d, PyObject *paths)
{
    Py_ssize_t count = PyList_GET_SIZE(paths), depth = 1;
    for (Py_ssize_t p = 0; p < count; p++)
        if (PyTuple_GET_SIZE(PyList_GET_ITEM(paths, p)) + 1 > depth)
            depth = PyTuple_GET_SIZE(PyList_GET_ITEM(paths, p)) + 1;
    State *states = PyMem_Malloc(sizeof(State) * (size_t)depth);
    PyObject *out = PyList_New(count);
    if (states == NULL || out == NULL) {
        PyMem_Free(states);
        Py_XDECREF(out);
        return PyErr_NoMemory();
    }
    int has_first = first_node(d, &states[0]);
    PyObject *prev = NULL;
    Py_ssize_t walked = 0; /* steps of `prev` that reached a node (states[1..walked]) */
    for (Py_ssize_t p = 0; p < count; p++) {
        PyObject *path = PyList_GET_ITEM(paths, p);
        Py_ssize_t len = PyTuple_GET_SIZE(path), k = 0;
        while (prev != NULL && k < walked && k < len) {
            PyObject *a = PyTuple_GET_ITEM(prev, k), *b = PyTuple_GET_ITEM(path, k);
            int eq = Py_TYPE(a) == Py_TYPE(b) ? PyObject_RichCompareBool(a, b, Py_EQ) : 0;
            if (eq < 0) {
                PyErr_Clear();
                eq = 0;
            }
            if (!eq)
                break;
            k++;
        }
        Py_ssize_t line = NONE;
        if (has_first) {
            Step step = STEP_OK;
            for (; k < len; k++) {
                step = child(d, &states[k], PyTuple_GET_ITEM(path, k), &states[k + 1]);
                if (step != STEP_OK)
                    break;
            }
            line = step == STEP_FLOW ? NONE : states[k].found;
            walked = k;
        }
        PyObject *value = line == NONE ? Py_NewRef(Py_None) : PyLong_FromSsize_t(line);
        if (value == NULL) {
            PyMem_Free(states);
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, p, value);
        prev = path;
    }
    PyMem_Free(states);
    return out;
}

static PyObject *locate(PyObject *Py_UNUSED(self), PyObject *args)
{
    PyObject *text, *paths;
    if (!PyArg_ParseTuple(args, "UO!", &text, &PyList_Type, &paths))
        return NULL;
    if (!PyUnicode_IS_ASCII(text) || !parts_ok(paths))
        Py_RETURN_NONE;
    Doc d = {(const char *)PyUnicode_1BYTE_DATA(text), PyUnicode_GET_LENGTH(text), NULL, 1, NULL};
    for (const char *at = d.s; (at = memchr(at, '\n', (size_t)(d.s + d.n - at))) != NULL; at++)
        d.lines++;
    d.starts = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)d.lines);
    d.cols = PyMem_Malloc(sizeof(int) * (size_t)d.lines);
    if (d.starts == NULL || d.cols == NULL) {
        PyMem_Free(d.starts);
        PyMem_Free(d.cols);
        return PyErr_NoMemory();
    }
    Py_ssize_t i = 0;
    d.starts[i++] = 0;
    for (const char *at = d.s; (at = memchr(at, '\n', (size_t)(d.s + d.n - at))) != NULL; at++)
        d.starts[i++] = at - d.s + 1;
    for (i = 0; i < d.lines; i++)
        d.cols[i] = UNKNOWN;
    PyObject *out = walk_all(&d, paths);
    PyMem_Free(d.starts);
    PyMem_Free(d.cols);
    return out;
}

static PyMethodDef METHODS[] = {
    {"locate", locate, METH_VARARGS,
     "locate(text, paths) -> 0-based line (or None) per path, or None for text or paths "
     "this module does not read (see locate.py)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_locate", "kubevet's field-line finder for block YAML", -1,
    METHODS, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__locate(void)
{
    return PyModule_Create(&MODULE);
}
