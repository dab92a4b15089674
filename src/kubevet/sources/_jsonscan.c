/* One pass over rapidyaml's JSON for what kubevet's YAML fast path needs to know besides the
 * values (see scan_json in yamlfast.py): how many keys the text holds (duplicate keys show as
 * fewer decoded entries), the strings that YAML 1.1 reads otherwise when they were plain, and
 * three marks. Written by hand because no JSON library reports its keys or tokens, and the
 * same answers from Python's regular expressions and str.count cost more than decoding the
 * JSON itself. Optional: without a compiler, yamlfast falls back to those (same results).
 * The text may be anything: every read is bounds-checked, nothing is assumed valid.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define MARK_NEGATIVE_FRACTION 1 /* a number written -0.x (rapidyaml's `-.x`) */
#define MARK_MERGE_KEY 2         /* a key `<<` */
#define MARK_ALIAS_LIKE 4        /* a string starting with `*` (an alias's name) */

static const char *const WORDS[] = {
    "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
    "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", NULL};
static const char *const SPECIALS[] = {"inf", "Inf", "INF", "nan", "NaN", "NAN", NULL};

static int in_list(const char *const *list, const unsigned char *s, Py_ssize_t n)
{
    for (; *list != NULL; list++) {
        if ((Py_ssize_t)strlen(*list) == n && memcmp(*list, s, (size_t)n) == 0) {
            return 1;
        }
    }
    return 0;
}

static int number_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
           c == 'x' || c == 'X' || c == 'o' || c == 'O' || c == '_' || c == ':' || c == '.' ||
           c == '+' || c == '-';
}

/* The string's whole content (no escapes) is `~`, a YAML 1.1 boolean or null word,
 * [-+]?.?(inf|nan) in any case YAML knows, or [-+]?[0-9.][0-9a-fA-FxXoO_:.eE+-]*: the same
 * wide net as yamlfast's _CANDIDATE; PyYAML's resolver decides afterwards. */
static int candidate(const unsigned char *s, Py_ssize_t n)
{
    if (n == 1 && s[0] == '~') {
        return 1;
    }
    if (n >= 2 && n <= 5 && in_list(WORDS, s, n)) {
        return 1;
    }
    Py_ssize_t i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    Py_ssize_t j = (i < n && s[i] == '.') ? i + 1 : i;
    if (n - j == 3 && in_list(SPECIALS, s + j, 3)) {
        return 1;
    }
    if (i >= n || !((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) {
        return 0;
    }
    for (Py_ssize_t k = i + 1; k < n; k++) {
        if (!number_char(s[k])) {
            return 0;
        }
    }
    return 1;
}

/* Adds (content, is_key) to `found`; -1 on a Python error. */
static int keep(PyObject *found, const unsigned char *s, Py_ssize_t n, int is_key)
{
    PyObject *item = Py_BuildValue("(s#O)", (const char *)s, n, is_key ? Py_True : Py_False);
    if (item == NULL) {
        return -1;
    }
    int failed = PyList_Append(found, item);
    Py_DECREF(item);
    return failed;
}

/* scan(json: str) -> (keys: int, marks: int, candidates: list[tuple[str, bool]]) */
static PyObject *scan(PyObject *module, PyObject *arg)
{
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "scan() takes a str");
        return NULL;
    }
    Py_ssize_t size;
    /* ASCII text is read in place; other text is encoded once (cached by the str) */
    const unsigned char *text = (const unsigned char *)PyUnicode_AsUTF8AndSize(arg, &size);
    if (text == NULL) {
        return NULL; /* a lone surrogate: not from rapidyaml's UTF-8 */
    }
    Py_ssize_t keys = 0;
    long marks = 0;
    PyObject *found = PyList_New(0);
    if (found == NULL) {
        return NULL;
    }
    Py_ssize_t at = 0;
    while (at < size) {
        const unsigned char c = text[at];
        if (c == '-' && at + 2 < size && text[at + 1] == '0' && text[at + 2] == '.') {
            marks |= MARK_NEGATIVE_FRACTION;
        }
        if (c != '"') {
            at++;
            continue;
        }
        const Py_ssize_t start = at + 1;
        Py_ssize_t end = start;
        int escaped = 0;
        while (end < size && text[end] != '"') {
            if (text[end] == '\\') {
                escaped = 1;
                end++; /* the escaped character, whatever it is */
            }
            end++;
        }
        if (end >= size) {
            break; /* an unterminated string: the decoder refuses the text */
        }
        const Py_ssize_t length = end - start;
        const int is_key = end + 1 < size && text[end + 1] == ':';
        keys += is_key;
        if (length > 0 && text[start] == '*') {
            marks |= MARK_ALIAS_LIKE;
        }
        if (is_key && length == 2 && text[start] == '<' && text[start + 1] == '<') {
            marks |= MARK_MERGE_KEY;
        }
        if (!escaped && length > 0 && candidate(text + start, length) &&
            keep(found, text + start, length, is_key) < 0) {
            Py_DECREF(found);
            return NULL;
        }
        at = end + 1;
    }
    return Py_BuildValue("(nlN)", keys, marks, found);
}

static PyMethodDef METHODS[] = {
    {"scan", scan, METH_O, "scan(json) -> (keys, marks, candidates)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_jsonscan", "kubevet's scan of rapidyaml's JSON", -1, METHODS,
};

PyMODINIT_FUNC PyInit__jsonscan(void)
{
    return PyModule_Create(&MODULE);
}
