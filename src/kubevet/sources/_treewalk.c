/* Python objects straight from rapidyaml's parsed tree, for kubevet's YAML fast path
 * (yamlfast._parse_fast): the same values that emitting the tree as JSON, scanning that JSON
 * and decoding it give, without the JSON (about half of the fast path's time after the parse).
 *
 * Written by hand because rapidyaml's Python binding offers only one call per node (a tenth of
 * the speed of this) or the JSON, and its wheel ships no C++ headers to build against. So this
 * reads the tree's nodes from memory, at the layout of rapidyaml 0.15 (NodeData, below). It is
 * used with that release only, and only once treewalk.load has found that layout to give the
 * binding's own answers on sample documents: otherwise the JSON path runs as before.
 *
 * build() gives up (returns NotImplemented, and the JSON path decides) on anything it does not
 * build the same way for certain: anchors, aliases, tags, null keys, unfiltered scalars, a key
 * repeated in a mapping, nesting deeper than the JSON emitter allows, a plain scalar whose YAML
 * 1.1 value the resolver could not build, text that is not UTF-8. YAML 1.1 reads a plain scalar
 * by the patterns of PyYAML's resolver its first character selects: the boolean and null words
 * are compared here, a decimal integer read here, and the other plain scalars that start like a
 * number go to `resolve`, which gives PyYAML's value, or `string` for the text itself.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const char *str;
    size_t len;
} Span;

typedef struct {
    Span tag;
    Span scalar;
    Span anchor;
} Scalar;

typedef struct { /* c4::yml::NodeData (rapidyaml 0.15) */
    uint64_t type;
    Scalar key;
    Scalar val;
    size_t parent;
    size_t first_child;
    size_t last_child;
    size_t next_sibling;
    size_t prev_sibling;
} NodeData;

typedef struct { /* the start of c4::yml::Tree */
    NodeData *buf;
    size_t cap;
    size_t size;
} TreeHead;

typedef struct { /* the start of SWIG's SwigPyObject */
    PyObject_HEAD void *ptr;
} SwigObject;

#define NONE_ID ((size_t)-1)
#define MAX_DEPTH 64 /* as rapidyaml's JSON emitter: deeper goes the way it went before */

/* Type bits, from the binding's constants (configure) */
static uint64_t KEY, MAP, SEQ, UNSURE, KEY_PLAIN, VAL_PLAIN, VALNIL;

typedef struct {
    NodeData *nodes;
    size_t size;
    PyObject *resolve;
    PyObject *string; /* what resolve returns for "the text itself" */
    int gave_up;
    int stopped; /* resolve raised Ctrl-C or SIGTERM (not an Exception): it propagates */
} Walk;

static PyObject *build_node(Walk *w, size_t id, int depth);
static PyObject *cached_str(Walk *w, Span s);

/* The words YAML 1.1 reads as booleans and nulls (PyYAML's resolver patterns for plain
 * scalars starting with a letter or `~`; no other pattern starts so). */
static const char *const TRUE_WORDS[] = {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", NULL};
static const char *const FALSE_WORDS[] = {"no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", NULL};
static const char *const NULL_WORDS[] = {"null", "Null", "NULL", "~", NULL};

static int is_word(const char *const *words, const char *s, size_t len)
{
    for (; *words; words++)
        if (strlen(*words) == len && memcmp(*words, s, len) == 0)
            return 1;
    return 0;
}

/* After a failed call: the error is dropped (the walk gives up), unless the run is being
 * stopped (`stopped`), whose KeyboardInterrupt must reach the caller. */
static void forget_error(Walk *w)
{
    if (!w->stopped)
        PyErr_Clear();
}

static PyObject *decode(Walk *w, Span s)
{
    PyObject *out = PyUnicode_DecodeUTF8(s.str ? s.str : "", (Py_ssize_t)s.len, NULL);
    if (out == NULL) {
        PyErr_Clear();
        w->gave_up = 1;
    }
    return out;
}

/* A plain decimal integer PyYAML reads as int: 0, or no leading zero, sign `-`, no `_`. */
static int plain_int(Span s, long long *value)
{
    size_t i = (s.len > 0 && s.str[0] == '-') ? 1 : 0;
    size_t digits = s.len - i;
    if (digits == 0 || digits > 18 || (s.str[i] == '0' && digits > 1))
        return 0;
    long long v = 0;
    for (; i < s.len; i++) {
        if (s.str[i] < '0' || s.str[i] > '9')
            return 0;
        v = v * 10 + (s.str[i] - '0');
    }
    *value = s.str[0] == '-' ? -v : v;
    return 1;
}

static PyObject *plain(Walk *w, Span s)
{
    long long number;
    if (s.len == 0)
        Py_RETURN_NONE;
    unsigned char first = (unsigned char)s.str[0];
    if (strchr("yYnNtTfFoO~", first) && first) { /* booleans and nulls: whole words */
        if (is_word(TRUE_WORDS, s.str, s.len))
            Py_RETURN_TRUE;
        if (is_word(FALSE_WORDS, s.str, s.len))
            Py_RETURN_FALSE;
        if (is_word(NULL_WORDS, s.str, s.len))
            Py_RETURN_NONE;
        return cached_str(w, s);
    }
    if (first == '<' && s.len == 2 && s.str[1] == '<') { /* a merge key: PyYAML's */
        w->gave_up = 1;
        return NULL;
    }
    if (!strchr("-+.0123456789", first) || !first) /* `=` too: kubevet reads it as text */
        return cached_str(w, s);
    if (plain_int(s, &number))
        return PyLong_FromLongLong(number);
    PyObject *text = decode(w, s); /* numbers in any base, sexagesimal, floats: PyYAML's */
    if (text == NULL)
        return NULL;
    PyObject *value = PyObject_CallOneArg(w->resolve, text);
    if (value == NULL) { /* PyYAML cannot build it (`0b_`): the JSON path explains */
        if (PyErr_ExceptionMatches(PyExc_Exception))
            PyErr_Clear();
        else /* KeyboardInterrupt (kubevet's SIGTERM too) raised while it ran: kept */
            w->stopped = 1;
        Py_DECREF(text);
        w->gave_up = 1;
        return NULL;
    }
    if (value == w->string) {
        Py_DECREF(value);
        return text;
    }
    Py_DECREF(text);
    return value;
}

/* Keys repeat across documents ("name", "image", "resources"): each short one is made once
 * and kept in a small table by its bytes, so that most keys cost a hash and a compare
 * rather than a new str (what orjson does for its keys, too). */
#define CACHE_SLOTS 2048
#define CACHE_LENGTH 32
typedef struct {
    size_t len;
    char bytes[CACHE_LENGTH];
    PyObject *str;
} CachedKey;
static CachedKey cache[CACHE_SLOTS];

static PyObject *cached_str(Walk *w, Span s)
{
    if (s.len > CACHE_LENGTH || s.str == NULL)
        return decode(w, s);
    uint32_t hash = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < s.len; i++)
        hash = (hash ^ (unsigned char)s.str[i]) * 16777619u;
    CachedKey *slot = &cache[hash % CACHE_SLOTS];
    if (slot->str != NULL && slot->len == s.len && memcmp(slot->bytes, s.str, s.len) == 0)
        return Py_NewRef(slot->str);
    PyObject *str = decode(w, s);
    if (str == NULL)
        return NULL;
    Py_XSETREF(slot->str, Py_NewRef(str));
    slot->len = s.len;
    memcpy(slot->bytes, s.str, s.len);
    return str;
}

static PyObject *key_of(Walk *w, NodeData *n)
{
    Span s = n->key.scalar;
    return (n->type & KEY_PLAIN) ? plain(w, s) : cached_str(w, s);
}

static PyObject *value_of(Walk *w, NodeData *n, size_t id, int depth)
{
    if (n->type & (MAP | SEQ))
        return build_node(w, id, depth + 1);
    if (n->type & VALNIL)
        Py_RETURN_NONE;
    if (n->type & VAL_PLAIN)
        return plain(w, n->val.scalar);
    return cached_str(w, n->val.scalar);
}

static size_t checked(Walk *w, size_t id)
{
    if (id != NONE_ID && id >= w->size)
        w->gave_up = 1; /* not a node of this tree: the layout is not what it seemed */
    return w->gave_up ? NONE_ID : id;
}

static PyObject *build_map(Walk *w, size_t id, int depth)
{
    PyObject *out = PyDict_New();
    Py_ssize_t count = 0;
    for (size_t c = checked(w, w->nodes[id].first_child); out && c != NONE_ID;
         c = checked(w, w->nodes[c].next_sibling)) {
        NodeData *n = &w->nodes[c];
        if ((n->type & UNSURE) || !(n->type & KEY)) {
            w->gave_up = 1;
            break;
        }
        PyObject *key = key_of(w, n);
        PyObject *value = key ? value_of(w, n, c, depth) : NULL;
        int failed = value == NULL || PyDict_SetItem(out, key, value) < 0;
        Py_XDECREF(key);
        Py_XDECREF(value);
        if (failed || PyDict_GET_SIZE(out) != ++count) { /* an error, or a repeated key */
            forget_error(w);
            w->gave_up = 1;
            break;
        }
    }
    if (w->gave_up)
        Py_CLEAR(out);
    return out;
}

static PyObject *build_seq(Walk *w, size_t id, int depth)
{
    Py_ssize_t count = 0;
    for (size_t c = checked(w, w->nodes[id].first_child); c != NONE_ID;
         c = checked(w, w->nodes[c].next_sibling))
        count++;
    PyObject *out = w->gave_up ? NULL : PyList_New(count); /* its items set below */
    Py_ssize_t i = 0;
    for (size_t c = w->nodes[id].first_child; out && c != NONE_ID; c = w->nodes[c].next_sibling) {
        NodeData *n = &w->nodes[c];
        PyObject *value = (n->type & (UNSURE | KEY)) ? NULL : value_of(w, n, c, depth);
        if (value == NULL) {
            forget_error(w);
            w->gave_up = 1;
            break;
        }
        PyList_SET_ITEM(out, i++, value);
    }
    if (w->gave_up)
        Py_CLEAR(out); /* (items not set are NULL, which a list's release skips) */
    return out;
}

static PyObject *build_node(Walk *w, size_t id, int depth)
{
    if (depth > MAX_DEPTH) {
        w->gave_up = 1;
        return NULL;
    }
    uint64_t type = w->nodes[id].type;
    if (type & UNSURE) {
        w->gave_up = 1;
        return NULL;
    }
    if (type & MAP)
        return build_map(w, id, depth);
    return build_seq(w, id, depth);
}

static TreeHead *tree_of(PyObject *tree)
{
    /* SWIG's object for the tree holds the C++ pointer right after the object's head */
    const char *name = Py_TYPE(tree)->tp_name;
    size_t length = strlen(name);
    if (length < 12 || strcmp(name + length - 12, "SwigPyObject") != 0) {
        PyErr_SetString(PyExc_TypeError, "not a rapidyaml tree (SWIG object)");
        return NULL;
    }
    return (TreeHead *)((SwigObject *)tree)->ptr;
}

static PyObject *build(PyObject *self, PyObject *args)
{
    PyObject *tree, *resolve, *string;
    Py_ssize_t id;
    if (!PyArg_ParseTuple(args, "OnOO", &tree, &id, &resolve, &string))
        return NULL;
    TreeHead *head = tree_of(tree);
    if (head == NULL)
        return NULL;
    if (KEY == 0 || id < 0 || (size_t)id >= head->size || !(head->buf[id].type & (MAP | SEQ)))
        Py_RETURN_NOTIMPLEMENTED;
    Walk w = {head->buf, head->size, resolve, string, 0, 0};
    PyObject *out = build_node(&w, (size_t)id, 1);
    if (out == NULL || w.gave_up) {
        Py_XDECREF(out);
        if (w.stopped)
            return NULL; /* the run is being stopped: not a document to give up on */
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    return out;
}

/* node(tree, id): (type, key, val, parent, first_child, next_sibling) read at this file's
 * layout, the key and val as bytes or None, for treewalk.py to compare with the binding. */
static PyObject *node(PyObject *self, PyObject *args)
{
    PyObject *tree;
    Py_ssize_t id;
    if (!PyArg_ParseTuple(args, "On", &tree, &id))
        return NULL;
    TreeHead *head = tree_of(tree);
    if (head == NULL)
        return NULL;
    if (id < 0 || (size_t)id >= head->size) {
        PyErr_SetString(PyExc_IndexError, "no such node");
        return NULL;
    }
    NodeData *n = &head->buf[id];
    PyObject *key = n->key.scalar.str
                        ? PyBytes_FromStringAndSize(n->key.scalar.str, (Py_ssize_t)n->key.scalar.len)
                        : Py_NewRef(Py_None);
    PyObject *val = n->val.scalar.str
                        ? PyBytes_FromStringAndSize(n->val.scalar.str, (Py_ssize_t)n->val.scalar.len)
                        : Py_NewRef(Py_None);
    if (key == NULL || val == NULL) {
        Py_XDECREF(key);
        Py_XDECREF(val);
        return NULL;
    }
    return Py_BuildValue("(KNNnnn)", (unsigned long long)n->type, key, val,
                         (Py_ssize_t)n->parent, (Py_ssize_t)n->first_child,
                         (Py_ssize_t)n->next_sibling);
}

/* head(tree): (capacity, size), the tree's first words at this file's layout, for
 * treewalk.py to compare with the binding before any node is read through them. */
static PyObject *head(PyObject *self, PyObject *tree)
{
    TreeHead *h = tree_of(tree);
    if (h == NULL)
        return NULL;
    return Py_BuildValue("(nn)", (Py_ssize_t)h->cap, (Py_ssize_t)h->size);
}

/* configure(bits): the binding's type bits by name; build() does nothing before this. */
static PyObject *configure(PyObject *self, PyObject *bits)
{
    const char *names[] = {"KEY", "MAP", "SEQ", "UNSURE", "KEY_PLAIN", "VAL_PLAIN", "VALNIL"};
    uint64_t *slots[] = {&KEY, &MAP, &SEQ, &UNSURE, &KEY_PLAIN, &VAL_PLAIN, &VALNIL};
    uint64_t values[7];
    for (int i = 0; i < 7; i++) {
        PyObject *v = PyDict_GetItemString(bits, names[i]);
        if (v == NULL) {
            PyErr_Format(PyExc_KeyError, "%s", names[i]);
            return NULL;
        }
        values[i] = PyLong_AsUnsignedLongLong(v);
        if (PyErr_Occurred())
            return NULL;
    }
    for (int i = 0; i < 7; i++)
        *slots[i] = values[i];
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"build", build, METH_VARARGS, "build(tree, id, resolve, string): the node's value."},
    {"node", node, METH_VARARGS, "node(tree, id): a node's fields, to check the layout."},
    {"head", head, METH_O, "head(tree): (capacity, size), to check the layout."},
    {"configure", configure, METH_O, "configure(bits): the binding's type bits."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_treewalk", NULL, -1, methods};

PyMODINIT_FUNC PyInit__treewalk(void) { return PyModule_Create(&module); }
