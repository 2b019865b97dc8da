#!/usr/bin/env python3
"""Regenerates conformance.json: small templates rendered by Python Jinja2 in the
environment transformers uses for chat templates (ImmutableSandboxedEnvironment,
trim_blocks, lstrip_blocks, loopcontrols, json.dumps-based tojson, raise_exception,
strftime_now at 2026-11-23 00:00:00). jinja_conformance_test renders the same
templates with Cellar's interpreter and compares byte for byte.

    python3 src/jinja/testdata/make_conformance.py > src/jinja/testdata/conformance.json
"""
import datetime
import json
import sys

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def strftime_now(fmt):
    return datetime.datetime(2026, 11, 23, 0, 0, 0).strftime(fmt)


class AssistantTracker(Extension):
    """transformers' {% generation %} tag; a normal render outputs the body."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

    def _generation_support(self, caller):
        return caller()


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                    extensions=[AssistantTracker, loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = strftime_now

MSGS = [{"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Bye"}]
D = {"b": 1, "a": [1, 2.5, None, True, "x"], "c": {"z": "é\"\n", "y": -0.0}}

# (name, template, vars)
CASES = [
    # --- lexer / whitespace ---
    ("ws/plain", "Hello {{ name }}!", {"name": "you"}),
    ("ws/trim_blocks", "{% if true %}\nA\n{% endif %}\nB", {}),
    ("ws/lstrip_blocks", "x\n    {% if true %}\n    y\n    {% endif %}\nz", {}),
    ("ws/lstrip_not_variable", "x\n    {{ 1 }}\n", {}),
    ("ws/minus_both", "a   {%- if true -%}   b   {%- endif -%}   c", {}),
    ("ws/minus_var", "a \n {{- 'b' -}} \n c", {}),
    ("ws/plus_lstrip", "x\n    {%+ if true %}y{% endif %}", {}),
    ("ws/plus_trim", "{% if true +%}\ny{% endif %}", {}),
    ("ws/comment_trim", "a\n  {# c #}\nb", {}),
    ("ws/comment_minus", "a   {#- c -#}   b", {}),
    ("ws/trailing_newline", "abc\n", {}),
    ("ws/two_trailing_newlines", "abc\n\n", {}),
    ("ws/crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc", {}),
    ("ws/raw", "{% raw %}{{ not }}{% if %}{% endraw %}!", {}),
    ("ws/raw_minus", "a  {%- raw -%}  {{x}}  {%- endraw -%}  b", {}),
    ("ws/var_no_trim", "{{ 'a' }}\nb", {}),
    ("ws/tab_lstrip", "x\n\t\t{% if true %}y{% endif %}", {}),
    ("ws/block_after_text", "x {% if true %}\ny{% endif %}", {}),
    ("ws/nested_braces", "{{ {'a': {'b': 1}} }}", {}),
    ("ws/comment_multiline", "a{# line1\nline2 #}b", {}),
    # --- literals and printing ---
    ("print/none_bool", "{{ none }} {{ true }} {{ False }} {{ None }}", {}),
    ("print/numbers", "{{ 1 }} {{ 1.0 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 1e-5 }} {{ 1/3 }} {{ -0.0 }} {{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 2.5e3 }}", {}),
    ("print/list_repr", "{{ [1, 'a', none, true, 2.5, [\"q'\"], {'k': 'v'}] }}", {}),
    ("print/tuple_repr", "{{ (1,) }} {{ () }} {{ (1, 'b') }} {{ 1, 2 }}", {}),
    ("print/dict_repr", "{{ d }}", {"d": D}),
    ("print/str_repr_escapes", "{{ ['a\\nb', 'tab\\t', 'back\\\\slash', \"it's\", 'say \"hi\"', 'both \\' \"', '\\x01', 'é', '\\u200b'] }}", {}),
    ("print/undefined", "[{{ nothing }}][{{ nothing is defined }}][{{ d.nokey }}][{{ d['nokey'] }}][{{ l[9] }}][{{ none['x'] }}]", {"d": {}, "l": []}),
    ("print/string_escapes", "{{ 'a\\tb\\n\\x41\\u00e9\\U0001F600\\101\\\\' }}", {}),
    ("print/adjacent_strings", "{{ 'a' 'b' \"c\" }}", {}),
    ("print/float_repr_more", "{{ [0.1, 0.2 + 0.1, 1e22, 1.5e-7, 123456789.123, 100.0, 3.0e0] }}", {}),
    ("print/big_ints", "{{ 9223372036854775807 }} {{ -9223372036854775807 }}", {}),
    ("print/markup", "{{ 'a<b'|safe }} {{ 'a<b'|e }} {{ ('x'|safe) ~ '<' }} {{ ('x'|safe) + '<' }}", {}),
    # --- expressions ---
    ("expr/arith", "{{ 7 + 3 }} {{ 7 - 10 }} {{ 7 * 3 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ 7 % 3 }} {{ 2 ** 10 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 2 ** -1 }} {{ 2 ** 0.5 }}", {}),
    ("expr/precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }} {{ 2 ** 3 ** 2 }} {{ 10 - 2 - 3 }} {{ not 1 == 2 }} {{ (1 + 2) ~ 3 }} {{ 'a' ~ (1 + 2) }} {{ 2 * 3 ~ 4 }} {{ 1 ~ 2 * 3 }}", {}),
    ("expr/concat_binds_tighter_than_plus", "{{ 1 + 2 ~ 3 }}", {}),
    ("expr/string_ops", "{{ 'ab' + 'cd' }} {{ 'ab' * 3 }} {{ 3 * 'x' }} {{ [1] * 2 }} {{ [1] + [2] }} {{ 'a' ~ none ~ 1 ~ true }}", {}),
    ("expr/compare", "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'b' }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ none == none }}", {}),
    ("expr/in", "{{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }} {{ 3 not in [1] }} {{ 'x' in nothing }}", {}),
    ("expr/logic", "{{ 1 and 2 }} {{ 0 and 2 }} {{ 0 or 'x' }} {{ '' or none }} {{ not '' }} {{ none or [] }} {{ 1 and 0 or 3 }}", {}),
    ("expr/condexpr", "{{ 'y' if true else 'n' }} {{ 'y' if false else 'n' }} [{{ 'y' if false }}] {{ 1 if 0 else 2 if 0 else 3 }}", {}),
    ("expr/subscript", "{{ l[0] }} {{ l[-1] }} {{ l[5] }} {{ d['b'] }} {{ d.b }} {{ d['nope'] }} {{ l.0 }} {{ s[1] }} {{ s[-1] }}", {"l": [1, 2, 3], "d": D, "s": "héllo"}),
    ("expr/slices", "{{ l[1:] }} {{ l[:-1] }} {{ l[::-1] }} {{ l[::2] }} {{ l[-2:] }} {{ l[5:] }} {{ s[1:3] }} {{ s[::-1] }} {{ s[-3:] }} {{ l[3:0:-1] }} {{ t[1:] }}", {"l": [1, 2, 3, 4], "s": "héllo wörld", "t": [1, 2]}),
    ("expr/attr_vs_item", "{{ d.items is callable }} {{ d['items'] }} {{ d.get('items') }} {{ d.keys is callable }}", {"d": {"items": 5, "keys": 1}}),
    ("expr/dict_literal", "{{ {'a': 1, 'b': [2], 3: 'c'} }} {{ {'a': 1}['a'] }} {{ {} }}", {}),
    ("expr/list_trailing_comma", "{{ [1, 2, ] }} {{ {'a': 1, } }}", {}),
    ("expr/call_kwargs_dyn", "{% macro m(a, b=2) %}{{ a }}-{{ b }}{% endmacro %}{{ m(*[5]) }} {{ m(**{'a': 1, 'b': 3}) }} {{ m(b=9, a=8) }}", {}),
    ("expr/unary", "{{ -x }} {{ +x }} {{ -(-3) }} {{ -1|abs }}", {"x": 4}),
    ("expr/percent_format", "{{ '%s and %s' % ('a', 1) }} {{ '%d|%5.2f|%-4s|%x|%03d|%r' % (42, 3.14159, 'ab', 255, 7, 'q') }} {{ '%(n)s!' % {'n': 'yo'} }} {{ '%s' % none }} {{ '%.2e|%g|%c|%%' % (12345.678, 0.00001, 65) }}", {}),
    # --- statements ---
    ("stmt/if_elif_else", "{% for x in [1, 2, 3, 4] %}{% if x == 1 %}one{% elif x == 2 %}two{% elif x == 3 %}three{% else %}many{% endif %} {% endfor %}", {}),
    ("stmt/for_else", "{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in [1] if x > 5 %}x{% else %}filtered{% endfor %}", {}),
    ("stmt/for_dict", "{% for k in d %}{{ k }},{% endfor %}|{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {"d": {"z": 1, "a": 2}}),
    ("stmt/for_unpack", "{% for a, b in [[1, 2], (3, 4), 'xy'] %}{{ a }}{{ b }} {% endfor %}", {}),
    ("stmt/for_string", "{% for c in 'héy' %}[{{ c }}]{% endfor %}", {}),
    ("stmt/loop_vars", "{% for x in 'abcd' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.previtem }}{{ loop.nextitem }}{{ loop.depth }}{{ loop.depth0 }}|{% endfor %}", {}),
    ("stmt/loop_cycle_changed", "{% for x in [1, 1, 2, 3, 3] %}{{ loop.cycle('odd', 'even') }}{{ loop.changed(x) }} {% endfor %}", {}),
    ("stmt/loop_filter_index", "{% for x in range(10) if x is odd %}{{ loop.index }}:{{ x }}/{{ loop.length }} {% endfor %}", {}),
    ("stmt/break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("stmt/nested_loop", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ a }}{{ b }} {% endfor %}{{ loop.index }}|{% endfor %}", {}),
    ("stmt/recursive_loop", "{% for n in tree recursive %}[{{ n.name }}{% if n.children %}:{{ loop(n.children) }}{% endif %}@{{ loop.depth }}]{% endfor %}", {"tree": [{"name": "a", "children": [{"name": "b", "children": []}, {"name": "c", "children": [{"name": "d"}]}]}]}),
    ("stmt/set", "{% set x = 1 %}{% set y, z = 2, 3 %}{% set (p, q) = [4, 5] %}{{ x }}{{ y }}{{ z }}{{ p }}{{ q }}", {}),
    ("stmt/set_scoping", "{% set x = 0 %}{% for i in [1, 2] %}{% set x = i %}[{{ x }}]{% endfor %}{{ x }}{% if true %}{% set x = 9 %}{% endif %}{{ x }}", {}),
    ("stmt/set_block", "{% set b %}  inner {{ 1 + 1 }}\n{% endset %}[{{ b }}]{% set c | trim | upper %}  q  {% endset %}[{{ c }}]", {}),
    ("stmt/namespace", "{% set ns = namespace(count=0, items=[]) %}{% for x in [1, 2, 3] %}{% set ns.count = ns.count + x %}{% endfor %}{{ ns.count }} {{ ns.items }} {{ ns.missing }}|{{ ns }}", {}),
    ("stmt/namespace_dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns['a'] }}", {}),
    ("stmt/macro", "{% macro greet(name, greeting='Hello', punct='!') %}{{ greeting }}, {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', 'Hi') }} {{ greet('C', punct='?') }} {{ greet(name='D') }}", {}),
    ("stmt/macro_missing_arg", "{% macro m(a, b) %}[{{ a }}|{{ b }}|{{ b is defined }}]{% endmacro %}{{ m(1) }}", {}),
    ("stmt/macro_varargs_kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}", {}),
    ("stmt/macro_default_refers_arg", "{% macro m(a, b=a * 2) %}{{ a }}{{ b }}{% endmacro %}{{ m(3) }}", {}),
    ("stmt/macro_scope", "{% set x = 1 %}{% macro m() %}{% set x = 2 %}{{ x }}{{ y }}{% endmacro %}{% set y = 'late' %}{{ m() }}{{ x }}", {}),
    ("stmt/macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * (fact(n - 1)|int) }}{% endif %}{% endmacro %}{{ fact(6) }}", {}),
    ("stmt/call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}inside {{ 1 + 1 }}{% endcall %}", {}),
    ("stmt/call_block_args", "{% macro each(items) %}{% for i in items %}{{ caller(i, loop.index) }}{% endfor %}{% endmacro %}{% call(item, n) each(['x', 'y']) %}{{ n }}={{ item }};{% endcall %}", {}),
    ("stmt/filter_block", "{% filter upper %}hello {{ 'world' }}{% endfilter %}|{% filter replace('a', 'o')|title %}banana bread{% endfilter %}", {}),
    ("stmt/with", "{% set a = 1 %}{% with a = 5, b = a %}{{ a }}{{ b }}{% endwith %}{{ a }}", {}),
    ("stmt/print_tag", "{% print 'a', 1 %}", {}),
    ("stmt/generation", "{% generation %}gen {{ 1 }}{% endgeneration %}", {}),
    ("stmt/colon_after_for", "{% for x in [1, 2]: %}{{ x }}{% endfor %}", {}),
    # --- tests ---
    ("test/types", "{% for v in [none, true, 1, 1.5, 'a', [1], {'a': 1}, x] %}{{ v is none }}{{ v is boolean }}{{ v is integer }}{{ v is float }}{{ v is number }}{{ v is string }}{{ v is sequence }}{{ v is mapping }}{{ v is iterable }}{{ v is defined }}{{ v is callable }}|{% endfor %}", {}),
    ("test/truefalse", "{{ true is true }}{{ 1 is true }}{{ false is false }}{{ 0 is false }}{{ none is not none }}{{ undefined_thing is undefined }}", {}),
    ("test/numbers", "{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 10 is divisibleby(4) }}{{ 2.0 is even }}", {}),
    ("test/compare", "{{ 1 is eq 1 }}{{ 1 is equalto 2 }}{{ 1 is ne 2 }}{{ 2 is gt 1 }}{{ 2 is ge 2 }}{{ 1 is lt 2 }}{{ 1 is le 0 }}{{ 'a' is in 'cat' }}{{ 2 is in [1, 2] }}{{ 1 is lessthan 2 }}{{ 1 is greaterthan 2 }}", {}),
    ("test/strings", "{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ 'aBc' is lower }}{{ 'trim' is filter }}{{ 'odd' is test }}{{ 'nope' is filter }}{{ ('x'|safe) is escaped }}{{ 'x' is escaped }}", {}),
    ("test/sameas", "{{ none is sameas none }}{{ true is sameas true }}{{ 1 is sameas 1 }}", {}),
    # --- filters ---
    ("filter/trim", "[{{ '  a b \\n'|trim }}][{{ 'xxaxx'|trim('x') }}][{{ none|trim }}][{{ 5|trim }}][{{ '\\u00a0 nbsp \\u3000'|trim }}]", {}),
    ("filter/length", "{{ 'héllo'|length }} {{ [1, 2]|length }} {{ {'a': 1}|length }} {{ x|length }} {{ 'ab'|count }}", {}),
    ("filter/case", "{{ 'hello WORLD'|upper }} {{ 'HeLLo'|lower }} {{ 'hello wORLD-foo(bar'|title }} {{ 'hELLO world'|capitalize }} {{ 'straße'|upper }} {{ 'ΣΊΣΥΦΟΣ'|lower }}", {}),
    ("filter/replace", "{{ 'aaa'|replace('a', 'b') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ 'abc'|replace('', '-') }} {{ 123|replace('2', 'x') }}", {}),
    ("filter/join", "{{ [1, 2, 3]|join }} {{ ['a', 'b']|join(', ') }} {{ users|join(', ', attribute='name') }} {{ 'abc'|join('.') }}", {"users": [{"name": "x"}, {"name": "y"}]}),
    ("filter/first_last", "{{ [1, 2, 3]|first }} {{ [1, 2, 3]|last }} {{ 'abc'|first }} {{ 'abc'|last }} {{ {'k': 1, 'j': 2}|first }} [{{ []|first }}] [{{ []|last }}]", {}),
    ("filter/list", "{{ 'abc'|list }} {{ {'a': 1, 'b': 2}|list }} {{ (1, 2)|list }} {{ x|list }}", {}),
    ("filter/map", "{{ users|map(attribute='name')|list }} {{ users|map(attribute='age', default=0)|list }} {{ ['a', 'B']|map('upper')|list }} {{ [1.5, 2.5]|map('round')|list }} {{ [[1, 2]]|map('join', '-')|list }} {{ none|map('upper')|list }}", {"users": [{"name": "x", "age": 3}, {"name": "y"}]}),
    ("filter/select_reject", "{{ [1, 2, 3, 4, 5]|select('odd')|list }} {{ [1, 2, 3, 4]|reject('even')|list }} {{ [0, 1, '', 'a', none]|select|list }} {{ [1, 5, 10]|select('gt', 3)|list }} {{ [1, 5, 10]|select('>', 3)|list }} {{ ['a', 'b']|select('in', 'abc')|list }}", {}),
    ("filter/selectattr", "{{ msgs|selectattr('role', 'equalto', 'user')|map(attribute='content')|list }} {{ msgs|rejectattr('role', 'eq', 'user')|list|length }} {{ items|selectattr('on')|list }} {{ items|selectattr('x', 'defined')|list }} {{ items|selectattr('x', 'undefined')|list|length }}", {"msgs": MSGS, "items": [{"on": True, "x": 1}, {"on": False}]}),
    ("filter/default", "{{ x|default('d') }} {{ none|default('d') }} {{ ''|default('d') }} {{ ''|default('d', true) }} {{ 0|d(5, boolean=true) }} {{ x|d }}|", {}),
    ("filter/tojson", "{{ d|tojson }}\n{{ d|tojson(indent=2) }}\n{{ d|tojson(indent='\\t') }}\n{{ d|tojson(sort_keys=true) }}\n{{ d|tojson(separators=(',', ':')) }}\n{{ 'é<>&\\'\"\\u2028\\x7f\\x01'|tojson }}\n{{ 'é😀'|tojson(ensure_ascii=true) }}\n{{ [1.0, 1e16, -0.0, 1e-7, 0.1]|tojson }}\n{{ [[], {}]|tojson(indent=2) }}\n{{ {1: 'a', true: 'b', none: 'c', 2.5: 'd'}|tojson }}\n{{ d|tojson(indent=0) }}", {"d": D}),
    ("filter/tojson_tuple", "{{ (1, 'a')|tojson }} {{ {'a': (1,)}|tojson }}", {}),
    ("filter/string_int_float", "{{ 5|string }}{{ none|string }}{{ [1]|string }} {{ '42'|int }} {{ '42.7'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ 3.9|int }} {{ true|int }} {{ '0x1A'|int(0, 16) }} {{ ' 12 '|int }} {{ '1_000'|int }} {{ '2.5'|float }} {{ 'x'|float }} {{ 3|float }} {{ ' 1e3 '|float }}", {}),
    ("filter/items_dictsort", "{{ d|items|list }} {{ d|dictsort }} {{ d|dictsort(reverse=true) }} {{ d|dictsort(by='value') }} {{ {'b': 1, 'A': 2, 'a': 0}|dictsort }} {{ {'b': 1, 'A': 2, 'a': 0}|dictsort(true) }} {{ x|items|list }}", {"d": {"z": 3, "a": 1, "m": 2}}),
    ("filter/indent", "[{{ 'a\\nb\\n\\nc'|indent }}][{{ 'a\\nb'|indent(2, true) }}][{{ 'a\\n\\nb\\n'|indent(blank=true) }}][{{ 'x\\ny'|indent('> ') }}][{{ ''|indent(first=true) }}]", {}),
    ("filter/unique", "{{ [1, 2, 1, 3, 2]|unique|list }} {{ ['a', 'A', 'b']|unique|list }} {{ ['a', 'A', 'b']|unique(case_sensitive=true)|list }} {{ users|unique(attribute='g')|map(attribute='n')|list }}", {"users": [{"n": 1, "g": "x"}, {"n": 2, "g": "x"}, {"n": 3, "g": "y"}]}),
    ("filter/round", "{{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 3|round }} {{ 1.234|round(1, 'ceil') }} {{ 1.29|round(1, 'floor') }} {{ 25|round(-1) }} {{ -2.5|round }} {{ 1234.5|round(-2) }}", {}),
    ("filter/sort_reverse", "{{ [3, 1, 2]|sort }} {{ [3, 1, 2]|sort(reverse=true) }} {{ ['b', 'A', 'c']|sort }} {{ ['b', 'A', 'c']|sort(case_sensitive=true) }} {{ users|sort(attribute='age')|map(attribute='n')|join }} {{ [1, 2, 3]|reverse|list }} {{ 'abc'|reverse }} {{ users|sort(attribute='age,n', reverse=true)|map(attribute='n')|join }}", {"users": [{"n": "a", "age": 3}, {"n": "b", "age": 1}, {"n": "c", "age": 3}]}),
    ("filter/abs_sum_min_max", "{{ -3|abs }} {{ (-2.5)|abs }} {{ [1, 2, 3]|sum }} {{ [1.5, 2]|sum }} {{ users|sum(attribute='age') }} {{ [1, 2]|sum(start=10) }} {{ [3, 1, 2]|min }} {{ [3, 1, 2]|max }} {{ ['b', 'A']|min }} {{ users|max(attribute='age') }} [{{ []|max }}]", {"users": [{"n": "a", "age": 3}, {"n": "b", "age": 1}]}),
    ("filter/batch_slice", "{{ [1, 2, 3, 4, 5]|batch(2)|list }} {{ [1, 2, 3]|batch(2, 'x')|list }} {{ [1, 2, 3, 4, 5]|slice(2)|list }} {{ [1, 2, 3, 4]|slice(3, 0)|list }}", {}),
    ("filter/center_truncate_wordcount", "[{{ 'ab'|center(7) }}][{{ 'abc'|center(8) }}] {{ 'The quick brown fox jumps'|truncate(12) }} {{ 'The quick brown fox'|truncate(12, true) }} {{ 'short'|truncate(10) }} {{ 'a b  c-d'|wordcount }}", {}),
    ("filter/format_filter", "{{ '%s|%s'|format(1, 'a') }} {{ '%(x)s'|format(x='k') }} {{ '%05.1f'|format(3.14159) }}", {}),
    ("filter/attr", "{{ d|attr('items') is callable }} {{ d|attr('nokey') is defined }} {{ d|attr('b') is defined }}", {"d": {"b": 1}}),
    ("filter/escape_safe", "{{ '<a href=\"x\">&\\'</a>'|e }} {{ '<b>'|safe|e }} {{ '<b>'|forceescape }}", {}),
    ("filter/markup_concat", "{{ 'a'|safe + '<b>' + ('<i>'|safe) }} {{ ('%s<'|safe) % '<' }}", {}),
    # --- methods ---
    ("method/strip", "[{{ '  a  '.strip() }}][{{ '  a  '.lstrip() }}][{{ '  a  '.rstrip() }}][{{ 'xyax'.strip('xy') }}][{{ '\\n\\t a'.lstrip() }}]", {}),
    ("method/split", "{{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ '  a b '.split(None, 1) }} {{ 'x</think>y</think>z'.split('</think>')[-1] }} {{ ''.split() }} {{ ''.split(',') }} {{ 'l1\\nl2\\r\\nl3'.splitlines() }}", {}),
    ("method/affix", "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith(('x', 'h')) }} {{ 'hello'.startswith('l', 2) }} {{ 'hello'.endswith('l', 0, 4) }}", {}),
    ("method/case", "{{ 'hello world'.title() }} {{ 'they\\'re bill\\'s'.title() }} {{ 'ABC'.lower() }} {{ 'abc'.upper() }} {{ 'hELLO'.capitalize() }} {{ 'AbC'.swapcase() }}", {}),
    ("method/replace_find", "{{ 'aXbXc'.replace('X', '-') }} {{ 'aXbXc'.replace('X', '-', 1) }} {{ 'héllo'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.find('z') }} {{ 'hello'.count('l') }} {{ 'hello'.index('e') }}", {}),
    ("method/format", "{{ '{} and {}'.format('a', 1) }} {{ '{0}{1}{0}'.format('x', 'y') }} {{ '{name}!'.format(name='n') }} {{ '{:>5}|{:<4}|{:^7}|'.format('a', 'b', 'c') }} {{ '{:.2f} {:,} {:05d} {:x} {!r}'.format(3.14159, 1234567, 42, 255, 'q') }} {{ '{{literal}} {0[k]} {0.k}'.format({'k': 'v'}) }}", {}),
    ("method/misc_str", "{{ ', '.join(['a', 'b']) }} {{ 'abc'.isalpha() }} {{ '123'.isdigit() }} {{ '  '.isspace() }} {{ 'ab'.zfill(5) }} {{ '-7'.zfill(4) }} {{ 'x'.center(5, '*') }} {{ 'x'.ljust(3) }}| {{ 'x'.rjust(3, '.') }} {{ 'a=b=c'.partition('=') }} {{ 'a=b=c'.rpartition('=') }} {{ 'prefix_x'.removeprefix('prefix_') }} {{ 'x.py'.removesuffix('.py') }}", {}),
    ("method/dict", "{{ d.get('b') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }} {{ d.keys()|list }} {{ d.values()|list|length }} {{ d.items()|list|first }} {{ d.items() }} {{ d.keys() }} {{ d.items()|length }} {{ 'b' in d.keys() }}", {"d": D}),
    ("method/list", "{{ l.count(1) }} {{ l.index(2) }} {{ (1, 2, 1).count(1) }}", {"l": [1, 2, 1]}),
    # --- globals ---
    ("global/range", "{{ range(3)|list }} {{ range(1, 4)|list }} {{ range(10, 0, -3)|list }} {{ range(3) }} {{ range(0) |length }} {{ range(2, 8, 2)|length }}", {}),
    ("global/dict_cycler_joiner", "{{ dict(a=1, b=2) }} {{ dict([('x', 1)], y=2) }} {% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}{{ c.current }} {% set j = joiner('|') %}{{ j() }}x{{ j() }}y{{ j() }}", {}),
    ("global/strftime_now", "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d') }}|{{ strftime_now('%A, %B %-d, %H:%M:%S %j %a %p %y %m') }}", {}),
    # --- chat-template idioms ---
    ("chat/llama_like", "{{ bos_token }}{% for m in messages %}{{ '<|' + m['role'] + '|>\\n' + m['content'] | trim + '\\n' }}{% endfor %}{% if add_generation_prompt %}<|assistant|>\\n{% endif %}", {"messages": MSGS, "bos_token": "<s>", "add_generation_prompt": True}),
    ("chat/system_split", "{% if messages[0]['role'] == 'system' %}{% set sys = messages[0]['content'] %}{% set loop_messages = messages[1:] %}{% else %}{% set sys = none %}{% set loop_messages = messages %}{% endif %}[{{ sys }}]{% for m in loop_messages %}{{ loop.index0 }}{{ m.role[0] }}{% endfor %}", {"messages": MSGS}),
    ("chat/ns_last_user", "{% set ns = namespace(last=-1) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.last = loop.index0 %}{% endif %}{% endfor %}{{ ns.last }}", {"messages": MSGS}),
    ("chat/messages_reversed", "{% for m in messages[::-1] %}{{ m.content }};{% endfor %}", {"messages": MSGS}),
    ("chat/tools_none", "{{ tools is none }}{{ tools is defined }}{% if tools %}yes{% else %}no{% endif %}", {"tools": None}),
    ("chat/content_list", "{% for m in messages %}{% if m.content is string %}{{ m.content }}{% else %}{% for part in m.content %}{% if part.type == 'text' %}{{ part.text }}{% endif %}{% endfor %}{% endif %}{% endfor %}", {"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}, {"role": "user", "content": "c"}]}),
    # --- errors ---
    ("error/raise_exception", "{{ raise_exception('Nope: ' ~ 1) }}", {}),
    ("error/iterate_none", "{% for t in tools %}{% endfor %}", {"tools": None}),
    ("error/attr_of_undefined", "{{ missing.attr }}", {}),
    ("error/item_of_undefined", "{{ missing['x'] }}", {}),
    ("error/call_undefined", "{{ missing() }}", {}),
    ("error/add_str_int", "{{ 'a' + 1 }}", {}),
    ("error/add_undefined", "{{ missing + 1 }}", {}),
    ("error/unsafe_append", "{% set l = [] %}{{ l.append(1) }}", {}),
    ("error/tojson_undefined", "{{ missing|tojson }}", {}),
    ("error/tojson_generator", "{{ [1]|map('string')|tojson }}", {}),
    ("error/length_generator", "{{ [1]|map('string')|length }}", {}),
    ("error/divide_by_zero", "{{ 1 / 0 }}", {}),
    ("error/compare_mixed", "{{ 1 < 'a' }}", {}),
    ("error/unpack", "{% for a, b in [[1, 2, 3]] %}{% endfor %}", {}),
    ("error/macro_too_many_args", "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", {}),
    ("error/macro_unknown_kwarg", "{% macro m(a) %}{% endmacro %}{{ m(b=2) }}", {}),
    ("error/ns_assign_non_namespace", "{% set x = 1 %}{% set x.y = 2 %}", {}),
    ("error/range_too_big", "{{ range(200000)|length }}", {}),
    ("error/in_int", "{{ 1 in 2 }}", {}),
    ("error/non_recursive_loop_call", "{% for x in [1] %}{{ loop([]) }}{% endfor %}", {}),
    # --- second batch: edge cases ---
    ("ws/spaces_before_tag_midline", "a  {% if true %}b{% endif %}  c", {}),
    ("ws/plus_end_and_minus_mix", "{%- if true %} x {%+ endif %}|{#- c #}\n  y", {}),
    ("ws/var_minus_after_newline", "a\n  {{- 'x' }}\nb", {}),
    ("ws/set_minus_chain", "{%- set x = 1 -%}\n\n{%- set y = 2 -%}\n  {{ x + y }}\n", {}),
    ("ws/raw_with_tags_inside", "{% raw %}{{ x }}\n{% for %}{% endraw %}\nafter", {}),
    ("ws/comment_lstrip_and_trim", "x\n   {# only a comment #}\ny", {}),
    ("ws/unicode_space_minus", "a\u00a0\u3000{{- 'b' -}}\u2003c", {}),
    ("print/more_literals", "{{ '\\N{BULLET}' }} {{ \"\\'\" }} {{ 'multi\nline' }} {{ 1e308 * 10 }} {{ -1e308 * 10 }} {{ 10 / 4 }} {{ 0.1 + 0.7 }}", {}),
    ("print/objects", "{% macro m() %}{% endmacro %}{{ m }} {{ m.name }} {{ namespace(a=1) }} {% for x in [1, 2, 3] %}{{ loop }}{% endfor %} {{ none.x }}|{{ 5.real is defined }}", {}),
    ("expr/equality_types", "{{ [1, 2] == [1, 2] }} {{ (1, 2) == [1, 2] }} {{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }} {{ 'abc' < 'abd' }} {{ 'é' > 'z' }} {{ 1 == '1' }} {{ none == false }} {{ 0 == false }} {{ 1.5 > 1 }}", {}),
    ("expr/test_precedence", "{{ -x is number }} {{ not x is defined }} {{ x is not none and true }} {{ 'a' if x is defined else 'b'|upper }} {{ [1, 2, 3]|length is odd }} {{ 1 + 1 is even }}", {"x": 3}),
    ("expr/filter_then_call", "{{ ('a,b'|string).split(',') }} {{ msgs[0].content|upper }} {{ msgs|length > 1 }} {{ (msgs|first).role }}", {"msgs": MSGS}),
    ("expr/set_unpack_string", "{% set a, b = 'xy' %}{{ b }}{{ a }}", {}),
    ("expr/range_index", "{{ range(5)[1] }} {{ range(3)|reverse|list }} {{ 2 in range(3) }} {{ range(1, 10, 3)|list }}", {}),
    ("expr/undefined_chains", "{{ d.a is defined and d.a.b }} {{ x|default(none) is none }} {{ (d.missing or 'fallback') }}", {"d": {}}),
    ("stmt/loop_in_macro_scope", "{% macro m() %}[{{ loop is defined }}]{% endmacro %}{% for x in [1] %}{{ m() }}{% endfor %}", {}),
    ("stmt/namespace_through_macro", "{% macro inc(ns) %}{% set ns.x = ns.x + 1 %}{% endmacro %}{% set n = namespace(x=0) %}{% for i in range(3) %}{{ inc(n) }}{% endfor %}{{ n.x }}", {}),
    ("stmt/loop_reads_outer_each_iteration", "{% set x = '' %}{% for i in range(3) %}{% set x = x ~ 'a' %}{{ x }},{% endfor %}[{{ x }}]", {}),
    ("stmt/caller_optional", "{% macro m() %}{% if caller is defined %}[{{ caller() }}]{% else %}none{% endif %}{% endmacro %}{{ m() }}{% call m() %}body{% endcall %}", {}),
    ("stmt/macro_in_loop_sees_loop", "{% for x in 'ab' %}{% macro show() %}{{ loop.index }}{{ x }}{% endmacro %}{{ show() }}{% endfor %}", {}),
    ("stmt/for_else_with_filter_and_loop", "{% for x in [3, 4, 5] if x > 3 %}{{ loop.index }}/{{ loop.length }}:{{ x }}{% if loop.last %}!{% endif %} {% else %}none{% endfor %}", {}),
    ("stmt/dictsort_unpack", "{% for k, v in {'b': 1, 'a': 2}|dictsort %}{{ k }}{{ v }}{% endfor %}", {}),
    ("stmt/with_scope", "{% with %}{% set inner = 1 %}{{ inner }}{% endwith %}[{{ inner }}]", {}),
    ("stmt/set_in_if_inside_loop", "{% for i in range(2) %}{% if true %}{% set y = i %}{% endif %}{{ y }}{% endfor %}[{{ y }}]", {}),
    ("test/select_operators", "{{ [1, 2, 3]|select('==', 2)|list }} {{ [1, 2, 3]|reject('!=', 2)|list }} {{ [1, 2, 3]|select('<=', 2)|list }} {{ [1, 2, 3]|select('ge', 2)|list }}", {}),
    ("filter/unicode_case", "{{ 'ÉCOLE'|lower }} {{ 'élan'|capitalize }} {{ 'hello wörld'|title }} {{ 'ǆemal'|title }} {{ 'ﬁne'|upper }} {{ 'İ'|lower|length }}", {}),
    ("filter/int_float_more", "{{ '  -12 '|int }} {{ '+5'|int }} {{ '1e3'|int }} {{ '0b11'|int(0, 2) }} {{ 'ff'|int(base=16) }} {{ 'nan'|float }} {{ 'inf'|float }} {{ '-inf'|float }} {{ none|int }} {{ [1]|float }}", {}),
    ("filter/round_more", "{{ 1234.5678|round(-2) }} {{ 2.345|round(2, 'floor') }} {{ 0.5|round }} {{ 1.5|round }} {{ -0.5|round }} {{ 5|round(1) }} {{ 1e20|round(2) }}", {}),
    ("filter/map_filters", "{{ ['1', '2']|map('int')|list }} {{ [none, 1]|map('default', 'x')|list }} {{ {'a': 1, 'b': 2}|select('ne', 'a')|list }} {{ 'abc'|list|join('-') }} {{ [[1, 2], [3]]|map('length')|list }}", {}),
    ("filter/batch_generator", "{{ [1, 2, 3]|map('string')|batch(2)|list }} {{ range(5)|slice(2)|list }}", {}),
    ("filter/join_markup", "{{ ['<a>', '<b>'|safe]|join('&') }} {{ ['x', 'y']|join('<'|safe) }}", {}),
    ("filter/tojson_more", "{{ {'é': 'ü', 'k': [{'n': none}]}|tojson(indent=1, sort_keys=true) }}\n{{ 'line\\u2028sep'|tojson(ensure_ascii=true) }}\n{{ [1e100, 1.5e-10, 123.0, -1e-300]|tojson }}\n{{ {'a': 1}|tojson(4) }}\n{{ 'x'|tojson(indent=-2) }}\n{{ [1, [2, [3]]]|tojson(indent=-1) }}", {}),
    ("filter/lengths_of_views", "{{ d.items()|length }} {{ d.keys()|list|length }} {{ d|items|list|length }} {{ 'a' in d }} {{ 'a' in d.values() }} {{ 1 in d.values() }}", {"d": {"a": 1, "b": 2}}),
    ("filter/sort_mixed_case_attr", "{{ ['b', 'B', 'a', 'A']|sort }} {{ ['b', 'B', 'a', 'A']|sort(case_sensitive=true) }} {{ ['b', 'B', 'a', 'A']|unique|list }} {{ ['b', 'B', 'a']|max }} {{ ['b', 'B', 'a']|min(case_sensitive=true) }}", {}),
    ("filter/string_of_none_upper", "{{ none|upper }} {{ true|lower }} {{ 12|string|length }} {{ 'a'|center(4) }}|{{ 'ab'|center(5) }}|", {}),
    ("filter/indent_markup_and_numbers", "{{ ('a\\nb'|safe)|indent(2) }}|{{ 'a\\r\\nb\\u2028c'|indent(1) }}", {}),
    ("filter/replace_unicode", "{{ 'héllo'|replace('é', 'e') }} {{ 'aaa'|replace('a', '') }} {{ 'ab'|replace('', '.', 2) }}", {}),
    ("filter/truncate_more", "{{ 'hello world foo'|truncate(9, false, '…', 0) }} {{ 'hello'|truncate(3, true, '', 0) }}", {}),
    ("method/more_str", "{{ 'Straße'.casefold() }} {{ 'a\\tb'.expandtabs(4) }} {{ 'ab1'.isalnum() }} {{ 'é'.isascii() }} {{ '١٢'.isdecimal() }} {{ '½'.isnumeric() }} {{ 'abc'.islower() }} {{ 'ABC1'.isupper() }} {{ 'Hello World'.istitle() }} {{ 'hello'.rindex('l') }} {{ 'ß'.upper() }} {{ 'ǅ'.lower() }} {{ 'ﬁ'.title() }} {{ 'x'.join('abc') }}", {}),
    ("method/percent_more", "{{ '%.3s|%5s|%-5d|%+d|% d' % ('abcdef', 'a', 3, 4, 5) }} {{ '%#x %#o %X %e %g %.0f %i %s' % (255, 8, 255, 0, 1e20, 2.5, 3.9, [1]) }} {{ '%(a)s %(a)r' % {'a': 'x'} }} {{ '%5.1f%%' % 99.44 }}", {}),
    ("method/format_more", "{{ '{:*^9}'.format('mid') }} {{ '{:+.3e}'.format(12345.6789) }} {{ '{:%}'.format(0.25) }} {{ '{:_}'.format(1234567) }} {{ '{:#b}'.format(5) }} {{ '{:c}'.format(97) }} {{ '{0!s:>4}'.format(1) }} {{ '{:.3}'.format(3.14159) }} {{ '{:.3}'.format('abcdef') }} {{ '{:g}'.format(1e-5) }} {{ '{}'.format(1.0) }} {{ '{:10.4f}|'.format(-3.14159) }} {{ '{:=+8d}'.format(42) }} {{ '{:08.2f}'.format(-1.5) }} {{ '{:,.2f}'.format(1234567.891) }} {{ '{} {}'.format(true, none) }}", {}),
    ("method/split_more", "{{ 'a\\u00a0b\\u2003c'.split() }} {{ '  x  y  '.rsplit(None, 1) }} {{ 'a b c'.split(' ', 0) }} {{ 'a\\x1cb'.split() }} {{ 'x\\n\\ny\\n'.splitlines(true) }}", {}),
    ("global/cycler_more", "{% set c = cycler(1, 2, 3) %}{{ c.next() }}{{ c.next() }}{{ c.current }}{{ c.reset() }}{{ c.next() }} {% set j = joiner() %}{{ j() }}a{{ j() }}b", {}),
    ("error/none_plus", "{{ none + 1 }}", {}),
    ("error/list_plus_tuple", "{{ [1] + (1,) }}", {}),
    ("error/str_times_str", "{{ 'a' * 'b' }}", {}),
    ("error/neg_str", "{{ -'a' }}", {}),
    ("error/abs_str", "{{ 'a'|abs }}", {}),
    ("error/join_int", "{{ 5|join }}", {}),
    ("error/missing_method", "{{ 'abc'.nonexistent() }}", {}),
    ("error/list_none", "{{ none|list }}", {}),
    ("error/dictsort_list", "{{ [1]|dictsort }}", {}),
    ("error/nested_missing_attr", "{{ d.a.b }}", {"d": {}}),
    ("error/caller_not_used", "{% macro m() %}x{% endmacro %}{% call m() %}y{% endcall %}", {}),
    ("error/tojson_mixed_keys_sorted", "{{ {1: 'a', 'b': 2}|tojson(sort_keys=true) }}", {}),
    ("error/tojson_tuple_key", "{{ {(1, 2): 'a'}|tojson }}", {}),
    ("expr/percent_empty_tuple", "{{ 'x' % () }}", {}),
    ("error/last_of_generator", "{{ [1]|map('string')|last }}", {}),
    ("error/format_positional_and_keyword", "{{ '%s'|format(1, a=2) }}", {}),
    ("error/strftime_non_string", "{{ strftime_now(5) }}", {}),
    ("error/raise_exception_non_string", "{{ raise_exception(42) }}", {}),
]


def main():
    out = []
    for name, template, variables in CASES:
        case = {"name": name, "template": template, "vars": variables}
        try:
            case["expected"] = env.from_string(template).render(**variables)
        except Exception as e:  # noqa: BLE001 - we record every failure
            case["expected_error"] = str(e)
            case["error_type"] = type(e).__name__
        out.append(case)
    json.dump({"jinja2_version": jinja2.__version__, "cases": out}, sys.stdout,
              ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
