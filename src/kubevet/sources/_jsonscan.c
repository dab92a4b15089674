/* One pass over rapidyaml's JSON for what kubevet's YAML fast path needs to know besides the
 * values (see scan_json in jsonscan.py): whether a mapping repeats a key (checked here, so
 * that a fast decoder without a per-mapping hook can load the text), the strings that YAML
 * 1.1 reads otherwise when they were plain, and a few marks. Written by hand because no JSON
 * library reports duplicate keys or its tokens, and the same answers from Python's regular
 * expressions, substring searches and a decoder hook cost more than decoding the JSON
 * itself. Also here: cuts(), which cuts a YAML stream into its documents (yamldocs._split).
 * Optional: without a compiler, kubevet falls back to those (same results).
 * The text may be anything: every read is bounds-checked, nothing is assumed valid.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MARK_NEGATIVE_FRACTION 1 /* a number written -0.x (rapidyaml's `-.x`) */
#define MARK_MERGE_KEY 2         /* a key `<<` */
#define MARK_ALIAS_LIKE 4        /* a string starting with `*` (an alias's name) */
#define MARK_DUPLICATE_KEY 8     /* a mapping repeats a key */
#define MARK_KEYS_UNCHECKED 16   /* some keys not compared (see FRAME_KEYS, MAX_FRAMES) */
#define MARK_NUMBERS_UNSURE 32    /* see LONG_DIGITS */

/* A number with an exponent (YAML 1.1 may read it as a string) or a run of this many digits
 * (past 64 bits, orjson reads an integer as a float) is left to the standard decoder. */
#define LONG_DIGITS 19

/* Keys are compared within each mapping, up to FRAME_KEYS of them and MAX_FRAMES deep
 * (rapidyaml's emitter stops short of that): past either, or for a key holding an escape
 * (two spellings of one key), the decoder that checks every mapping decides. */
#define FRAME_KEYS 256
#define MAX_FRAMES 64
#define FIRST_KEYS 256 /* room for this many keys at first; it doubles as needed */

typedef struct {
    const char *text;
    Py_ssize_t length;
} Span; /* a key met in the text, or a word of the lists below */

typedef struct {
    int is_mapping;
    Py_ssize_t first; /* its keys' place in the key stack */
    Py_ssize_t count;
} Frame;

typedef struct {
    Frame frames[MAX_FRAMES];
    int depth;
    int beyond; /* levels open past MAX_FRAMES */
    Span *keys; /* the open mappings' keys, innermost last */
    Py_ssize_t key_count;
    Py_ssize_t key_room;
} Nesting;

static void open_level(Nesting *n, int is_mapping, long *marks)
{
    if (n->depth == MAX_FRAMES) {
        n->beyond++;
        *marks |= MARK_KEYS_UNCHECKED;
        return;
    }
    Frame *frame = &n->frames[n->depth++];
    frame->is_mapping = is_mapping;
    frame->first = n->key_count;
    frame->count = 0;
}

static void close_level(Nesting *n)
{
    if (n->beyond > 0) {
        n->beyond--;
    } else if (n->depth > 0) {
        n->key_count = n->frames[--n->depth].first;
    }
}

/* A key of the innermost mapping: compared with the keys before it there. */
static void add_key(Nesting *n, const unsigned char *s, Py_ssize_t length, int escaped,
                    long *marks)
{
    if (n->beyond > 0 || n->depth == 0 || !n->frames[n->depth - 1].is_mapping) {
        return; /* past MAX_FRAMES (marked), or not JSON */
    }
    Frame *frame = &n->frames[n->depth - 1];
    if (escaped || frame->count == FRAME_KEYS) {
        *marks |= MARK_KEYS_UNCHECKED;
        return;
    }
    if (n->key_count == n->key_room) {
        Span *more = PyMem_Realloc(n->keys, sizeof(Span) * (size_t)n->key_room * 2);
        if (more == NULL) {
            *marks |= MARK_KEYS_UNCHECKED; /* the decoder compares them instead */
            return;
        }
        n->keys = more;
        n->key_room *= 2;
    }
    for (Py_ssize_t i = frame->first; i < frame->first + frame->count; i++) {
        const Span *other = &n->keys[i];
        if (other->length == length && memcmp(other->text, s, (size_t)length) == 0) {
            *marks |= MARK_DUPLICATE_KEY;
        }
    }
    n->keys[n->key_count].text = (const char *)s;
    n->keys[n->key_count].length = length;
    n->key_count++;
    frame->count++;
}

#define WORD(s) {s, sizeof(s) - 1}
static const Span WORDS[] = {
    WORD("yes"), WORD("Yes"), WORD("YES"), WORD("no"), WORD("No"), WORD("NO"),
    WORD("true"), WORD("True"), WORD("TRUE"), WORD("false"), WORD("False"), WORD("FALSE"),
    WORD("on"), WORD("On"), WORD("ON"), WORD("off"), WORD("Off"), WORD("OFF"),
    WORD("null"), WORD("Null"), WORD("NULL"), {NULL, 0}};
static const Span SPECIALS[] = {WORD("inf"), WORD("Inf"), WORD("INF"), WORD("nan"),
                                WORD("NaN"), WORD("NAN"), {NULL, 0}};

static int in_list(const Span *list, const unsigned char *s, Py_ssize_t n)
{
    for (; list->text != NULL; list++) {
        if (list->length == n && memcmp(list->text, s, (size_t)n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The first characters of the candidate forms: most strings fail here. */
static int may_start_candidate(unsigned char c)
{
    switch (c) {
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
    case '8': case '9': case '.': case '+': case '-': case '~': case 'Y': case 'y':
    case 'N': case 'n': case 'T': case 't': case 'F': case 'f': case 'O': case 'o':
    case 'I': case 'i':
        return 1;
    default:
        return 0;
    }
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
    if (n == 0 || !may_start_candidate(s[0])) {
        return 0;
    }
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

/* The first '"' or backslash at or after `at` (`stop` or past it: none). Eight bytes at a
 * time where the compiler and the byte order allow: most of the scan's time was this walk
 * through strings, a byte and two tests at a time. A byte equal to '"' or '\\' is a zero
 * byte of the word XORed with it, which (x - 0x01..) & ~x & 0x80.. marks; the lowest mark is
 * exact (a borrow only spreads upward), and the lowest is the first byte in memory. */
static const unsigned char *quote_or_backslash(const unsigned char *at,
                                               const unsigned char *stop)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (at < stop && stop - at >= 8) {
        uint64_t word;
        memcpy(&word, at, sizeof word);
        const uint64_t quote = word ^ (ones * '"'), backslash = word ^ (ones * '\\');
        const uint64_t hit = ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash);
        if (hit & highs) {
            return at + (__builtin_ctzll(hit & highs) >> 3);
        }
        at += 8;
    }
#endif
    while (at < stop && *at != '"' && *at != '\\') {
        at++;
    }
    return at;
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

/* scan(json: str) -> (marks: int, candidates: list[tuple[str, bool]]) */
static PyObject *scan(PyObject *Py_UNUSED(module), PyObject *arg)
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
    Nesting nesting = {.depth = 0, .beyond = 0, .key_count = 0, .key_room = FIRST_KEYS};
    nesting.keys = PyMem_Malloc(sizeof(Span) * FIRST_KEYS);
    PyObject *found = PyList_New(0);
    if (nesting.keys == NULL || found == NULL) {
        PyMem_Free(nesting.keys);
        Py_XDECREF(found);
        return PyErr_NoMemory();
    }
    long marks = 0;
    int digits = 0; /* the current run of digits outside strings */
    /* A byte at a time: strings are mostly a few bytes long, too short for memchr to pay. */
    const unsigned char *at = text;
    const unsigned char *const stop = text + size;
    while (at < stop) {
        const unsigned char c = *at;
        if (c != '"') {
            digits = (c >= '0' && c <= '9') ? digits + 1 : 0;
            if (digits == LONG_DIGITS) {
                marks |= MARK_NUMBERS_UNSURE;
            }
            if (c == '{' || c == '[') {
                open_level(&nesting, c == '{', &marks);
            } else if (c == '}' || c == ']') {
                close_level(&nesting);
            } else if (c == '-' && at + 2 < stop && at[1] == '0' && at[2] == '.') {
                marks |= MARK_NEGATIVE_FRACTION;
            } else if ((c == 'e' || c == 'E') && at > text && at[-1] >= '0' && at[-1] <= '9') {
                marks |= MARK_NUMBERS_UNSURE; /* (the `e` of true and false follows a letter) */
            }
            at++;
            continue;
        }
        const unsigned char *start = at + 1;
        const unsigned char *end = quote_or_backslash(start, stop);
        int escaped = 0;
        while (end < stop && *end != '"') { /* a backslash */
            escaped = 1;
            /* past the escaped character, whatever it is */
            end = stop - end > 2 ? quote_or_backslash(end + 2, stop) : stop;
        }
        if (end >= stop) {
            break; /* an unterminated string: the decoder refuses the text */
        }
        const Py_ssize_t length = end - start;
        const int is_key = end + 1 < stop && end[1] == ':';
        if (is_key) {
            add_key(&nesting, start, length, escaped, &marks);
        }
        if (length > 0 && start[0] == '*') {
            marks |= MARK_ALIAS_LIKE;
        }
        if (is_key && length == 2 && start[0] == '<' && start[1] == '<') {
            marks |= MARK_MERGE_KEY;
        }
        /* (a string with an escape is no candidate: no form has a backslash) */
        if (candidate(start, length) && keep(found, start, length, is_key) < 0) {
            PyMem_Free(nesting.keys);
            Py_DECREF(found);
            return NULL;
        }
        at = end + 1;
    }
    PyMem_Free(nesting.keys);
    return Py_BuildValue("(lN)", marks, found);
}

/* The index of the first '\n' at or after `from` in a str's data (-1: none); memchr for text
 * of one byte per character, which finds a line's end in a few instructions. */
static Py_ssize_t next_newline(int kind, const void *data, Py_ssize_t n, Py_ssize_t from)
{
    if (kind == PyUnicode_1BYTE_KIND) {
        const char *s = (const char *)data;
        const char *at = from < n ? memchr(s + from, '\n', (size_t)(n - from)) : NULL;
        return at == NULL ? -1 : at - s;
    }
    for (Py_ssize_t i = from; i < n; i++) {
        if (PyUnicode_READ(kind, data, i) == '\n') {
            return i;
        }
    }
    return -1;
}

/* cuts(text: str) -> [(start, stop, line)]: yamldocs._split's chunks of a YAML stream, cut
 * before each `---` line (`---` then the end, a space, a tab or a line break), each with
 * the 1-based line it starts at. In Python, str.find and str.count (a byte at a time)
 * took about as many instructions as decoding the JSON of every document. */
static PyObject *cuts(PyObject *Py_UNUSED(module), PyObject *arg)
{
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "cuts() takes a str");
        return NULL;
    }
    const Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    const int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    Py_ssize_t start = 0, line = 1, seen = 0; /* seen: the line breaks before `at` + 1 */
    for (Py_ssize_t at = next_newline(kind, data, n, 0); at >= 0;
         at = next_newline(kind, data, n, at + 1)) {
        seen++;
        if (at + 4 > n || PyUnicode_READ(kind, data, at + 1) != '-' ||
            PyUnicode_READ(kind, data, at + 2) != '-' ||
            PyUnicode_READ(kind, data, at + 3) != '-') {
            continue;
        }
        if (at + 4 < n) {
            const Py_UCS4 c = PyUnicode_READ(kind, data, at + 4);
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
                continue;
            }
        }
        PyObject *chunk = Py_BuildValue("(nnn)", start, at + 1, line);
        if (chunk == NULL || PyList_Append(out, chunk) < 0) {
            Py_XDECREF(chunk);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(chunk);
        start = at + 1;
        line = 1 + seen;
    }
    if (n > start) {
        PyObject *chunk = Py_BuildValue("(nnn)", start, n, line);
        if (chunk == NULL || PyList_Append(out, chunk) < 0) {
            Py_XDECREF(chunk);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(chunk);
    }
    return out;
}

static PyMethodDef METHODS[] = {
    {"scan", scan, METH_O, "scan(json) -> (marks, candidates)"},
    {"cuts", cuts, METH_O, "cuts(text) -> [(start, stop, line)] of the stream's documents"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_jsonscan", "kubevet's scan of rapidyaml's JSON", -1, METHODS,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__jsonscan(void)
{
    return PyModule_Create(&MODULE);
}
