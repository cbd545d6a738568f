"""The chunk scanner: where top-level declarations of preprocessed C end, and the braces.

All C here is written for these tests, as gcc -E would print it (line markers, no comments).
"""

from __future__ import annotations

import pytest

from archeo.parse.chunks import Brace, scan_unit

TRICKY = """\
# 1 "t.c"
struct s {
  int a;
} x, *y;
struct p { char c; } __attribute__((packed));
int f(struct s *q)
{
  const char *t = "{;}";
  char c = '}', d = '\\'';
  return ({ int z = q->a; z + 1; });
}
static int g(void) __attribute__((unused));
__attribute__((noreturn)) void die(void);
int a; int b;
int m; int
  n;
void h(void) { } int z;
int t[] = { 1, 2 };
enum e { A, B };
"""


def chunks(code: str, filename: str = "t.c"):
    scan = scan_unit(code, filename)
    assert scan.chunks is not None
    return [(c.line, c.text) for c in scan.chunks]


def test_tricky_declarations_split_where_they_end():
    assert chunks(TRICKY) == [
        (1, "struct s {\n  int a;\n} x, *y;"),  # a struct body does not end a chunk, its declarators do
        (4, "struct p { char c; } __attribute__((packed));"),
        (5, "int f(struct s *q)\n{\n  const char *t = \"{;}\";\n  char c = '}', d = '\\'';\n"
            "  return ({ int z = q->a; z + 1; });\n}"),  # braces in literals and ({ }) stay inside
        (11, "static int g(void) __attribute__((unused));"),
        (12, "__attribute__((noreturn)) void die(void);"),
        (13, "int a; int b;"),  # a chunk is whole lines: two declarations
        (14, "int m; int\n  n;"),  # a line that does not end at a `;` runs on
        (16, "void h(void) { } int z;"),
        (17, "int t[] = { 1, 2 };"),
        (18, "enum e { A, B };"),
    ]


def test_a_function_body_ends_a_chunk_without_a_semicolon():
    code = '# 1 "t.c"\nstruct s { int a; };\nint f(void)\n{\n  return 0;\n}\nint g(void) { return 1; }\n'
    assert chunks(code) == [(1, "struct s { int a; };"), (2, "int f(void)\n{\n  return 0;\n}"), (6, "int g(void) { return 1; }")]


def test_braces_know_their_construct_start_and_closing_line():
    braces = scan_unit(TRICKY, "t.c").braces
    assert braces[("t.c", 6, 1)] == Brace(start=("t.c", 5), close=10)  # f's body: from `int f` to `}`
    assert braces[("t.c", 9, 11)] == Brace(start=("t.c", 5), close=9)  # the statement expression
    assert braces[("t.c", 16, 14)] == Brace(start=("t.c", 16), close=16)
    assert braces[("t.c", 1, 10)] == Brace(start=("t.c", 1), close=3)


def test_a_brace_that_starts_a_construct_takes_the_start_before_it():
    braces = scan_unit('# 1 "t.c"\nint a;\n{ }\n', "t.c").braces
    assert braces[("t.c", 2, 1)] == Brace(start=("t.c", 1), close=2)


def test_line_markers_set_file_and_line_and_are_relative_in_the_key():
    here = '# 1 "t.c"\nint f(void)\n{\n# 40 "t.c"\n  return 0;\n}\n'
    there = '# 11 "t.c"\nint f(void)\n{\n# 50 "t.c"\n  return 0;\n}\n'
    (a,), (b,) = scan_unit(here, "t.c").chunks, scan_unit(there, "t.c").chunks
    assert (a.file, a.line, b.line) == ("t.c", 1, 11)
    assert a.text != b.text and a.key == b.key is not None
    assert scan_unit(here, "t.c").braces[("t.c", 2, 1)].close == 41


def test_a_marker_into_another_file_inside_a_chunk_has_no_key():
    code = '# 1 "t.c"\nstruct s {\n# 1 "inc.h" 1\n  int a;\n# 3 "t.c" 2\n};\n'
    (chunk,) = scan_unit(code, "t.c").chunks
    assert chunk.key is None and chunk.text.count("\n") == 4


def test_markers_between_chunks_place_the_next_one():
    code = '# 1 "t.c"\nint a;\n# 1 "h.h" 1\n\nint b;\n# 3 "t.c" 2\nint c;\n'
    scan = scan_unit(code, "t.c")
    assert [(c.file, c.line, c.text) for c in scan.chunks] == [("t.c", 1, "int a;"), ("h.h", 2, "int b;"), ("t.c", 3, "int c;")]


@pytest.mark.parametrize(
    "code",
    [
        '# 1 "t.c"\n#pragma pack(1)\nint a;\n',  # a directive the lexer turns into tokens
        '# 1 "t.c"\nchar *s = "open;\n',  # a literal that does not end
        '# 1 "t.c"\nint f(void) { return 0; }\n}\n',  # a brace closed twice
        '# 1 "t.c"\nint f(void) { return 0;\n',  # a body never closed
        '# 1 "t.c"\nint a\n',  # a declaration never ended
    ],
)
def test_what_the_scan_does_not_expect_leaves_no_chunks(code):
    assert scan_unit(code, "t.c").chunks is None


def test_a_filename_that_cannot_stand_in_a_marker_leaves_no_chunks():
    assert scan_unit("int a;\n", 'odd"name.c').chunks is None
    assert scan_unit("int a;\n", "plain.c").chunks[0].file == "plain.c"


def test_words_are_every_name_a_parse_can_look_up():
    (chunk,) = scan_unit('# 1 "t.c"\nstatic T f(U *u) { return (V)u; }\n', "t.c").chunks
    assert {"T", "U", "V", "u", "f", "static", "return"} <= chunk.words()
