/**
 * @file tree-sitter grammar for the mlp experiment language (`*.mlp`).
 *
 * A transcription of grammar/Mlp.g4, which stays the single source of truth
 * for the syntax: same rules, same precedence, same keywords usable as
 * names. docs/language.md describes the language.
 *
 * Known differences from the ANTLR grammar (both only in invalid input):
 *  - tree-sitter 0.22 has no reserved words, so a reserved keyword (`in`,
 *    `then`, `on`, `true`, `false`, `minimize`, `maximize`) is lexed as an
 *    identifier where the keyword could not appear (`x = in` parses);
 *  - the ANTLR error tokens (unterminated string or comment, `1e`, unknown
 *    characters) become ordinary tree-sitter ERROR nodes.
 */

/// <reference types="tree-sitter-cli/dsl" />
// @ts-check

// Loosest first, as in Mlp.g4's `expr` rule (read bottom-up there).
const PREC = {
  on: 1,
  then: 2,
  objective: 3, // prefix minimize / maximize
  range: 4,
  additive: 5,
  multiplicative: 6,
  unary: 7,
  postfix: 8, // call, member access
};

// Keywords that may also be names (Mlp.g4's `ident` rule). The other seven
// (`in then on true false minimize maximize`) are reserved.
const NAME_KEYWORDS = [
  "import", "dataset", "model", "experiment", "extern",
  "input", "output", "repeat", "when",
];

/** `rule (',' rule)*` */
function commaSep1(rule) {
  return seq(rule, repeat(seq(",", rule)));
}

/** `(rule (',' rule)* ','?)?` */
function commaSepTrailing(rule) {
  return optional(seq(commaSep1(rule), optional(",")));
}

/** `rule (',' rule)* ','?` */
function commaSep1Trailing(rule) {
  return seq(commaSep1(rule), optional(","));
}

module.exports = grammar({
  name: "mlp",

  extras: $ => [/[ \t\r\n\f]/, $.line_comment, $.block_comment],

  word: $ => $.identifier,

  conflicts: $ => [
    [$.sweep_entry],
  ],

  supertypes: $ => [$._expression, $._type, $._constraint],

  rules: {
    source_file: $ => repeat($._item),

    _item: $ => choice(
      $.import_declaration,
      $.dataset_declaration,
      $.model_declaration,
      $.experiment_declaration,
      $.extern_declaration,
      ";",
    ),

    // ---- names ---------------------------------------------------------------

    identifier: _ => /[a-zA-Z_][a-zA-Z_0-9]*/,

    // Mlp.g4's `ident`: an identifier or a keyword that only starts
    // declarations or statements. Either way the node is an (identifier).
    _name: $ => choice(
      $.identifier,
      ...NAME_KEYWORDS.map(k => alias(k, $.identifier)),
    ),

    // A type's name: `int`, `f32`, `list`, `enum`, or a kind such as `model`.
    _type_name: $ => choice(
      alias($.identifier, $.type_identifier),
      ...NAME_KEYWORDS.map(k => alias(k, $.type_identifier)),
    ),

    // ---- declarations ----------------------------------------------------------

    // import std.nn.*  |  import std.nn.{a, b}  |  import std.nn.linear
    import_declaration: $ => seq(
      "import",
      field("path", $._name),
      repeat(seq(".", field("path", $._name))),
      optional(seq(".", choice(
        field("wildcard", alias("*", $.wildcard)),
        field("names", $.import_list),
      ))),
    ),

    import_list: $ => seq("{", commaSep1Trailing(field("name", $._name)), "}"),

    dataset_declaration: $ => seq(
      "dataset",
      field("name", $._name),
      "=",
      field("source", $._expression),
      optional(field("body", $.block)),
    ),

    model_declaration: $ => seq(
      "model",
      field("name", $._name),
      optional(field("parameters", $.parameters)),
      field("body", $.model_body),
    ),

    experiment_declaration: $ => seq(
      "experiment",
      field("name", $._name),
      field("body", $.block),
    ),

    // @goal(max) extern metric accuracy()
    // extern layer linear(x: f32[..., n], out: int > 0) -> f32[..., out]
    extern_declaration: $ => seq(
      repeat(field("annotation", $.annotation)),
      "extern",
      field("kind", $._name),
      field("name", $._name),
      optional(field("parameters", $.parameters)),
      optional(seq("->", field("result", $._type))),
    ),

    annotation: $ => seq(
      "@",
      field("name", $._name),
      optional(seq("(", commaSep1(field("argument", $._expression)), ")")),
    ),

    parameters: $ => seq("(", commaSepTrailing($.parameter), ")"),

    // name: type ('|' type)* constraint? ('=' default)?
    parameter: $ => seq(
      field("name", $._name),
      ":",
      field("type", choice($._type, $.union_type)),
      optional(field("constraint", $._constraint)),
      optional(seq("=", field("default", $._expression))),
    ),

    // `int | string`, parameters only.
    union_type: $ => seq($._type, repeat1(seq("|", $._type))),

    // ---- types -------------------------------------------------------------------

    _type: $ => choice($.shaped_type, $.enum_type, $._type_name),

    // f32[batch, 64], list[metric]
    shaped_type: $ => seq(
      field("name", $._type_name),
      "[",
      commaSep1Trailing(field("dimension", choice($.ellipsis, $._expression))),
      "]",
    ),

    ellipsis: _ => prec(0, "..."),

    // enum(min, max)
    enum_type: $ => seq(
      field("name", $._type_name),
      "(",
      commaSep1Trailing(field("value", $._name)),
      ")",
    ),

    // ---- constraints ---------------------------------------------------------------

    _constraint: $ => choice($.interval_constraint, $.compare_constraint),

    // in [lo, hi], in [lo, hi), in (lo, hi], in (lo, hi)
    interval_constraint: $ => seq(
      "in",
      field("open", choice("[", "(")),
      field("low", $._expression),
      ",",
      field("high", $._expression),
      field("close", choice("]", ")")),
    ),

    compare_constraint: $ => seq(
      field("operator", choice(">", ">=", "<", "<=", "!=")),
      field("bound", $._expression),
    ),

    // ---- models ----------------------------------------------------------------------

    model_body: $ => seq("{", repeat($._model_statement), "}"),

    _model_statement: $ => choice(
      $.input_statement,
      $.output_statement,
      $.repeat_statement,
      $.let_statement,
      ";",
    ),

    input_statement: $ => seq(
      "input",
      field("name", $._name),
      ":",
      field("type", $._type),
    ),

    output_statement: $ => seq(
      "output",
      field("name", $._name),
      optional(seq(":", field("type", $._type))),
      "=",
      field("value", $._expression),
    ),

    // repeat COUNT { ... }  |  repeat VAR in COUNT { ... }
    repeat_statement: $ => seq(
      "repeat",
      optional(seq(field("variable", $._name), "in")),
      field("count", $._expression),
      field("body", $.model_body),
    ),

    let_statement: $ => seq(
      field("name", $._name),
      "=",
      field("value", $._expression),
    ),

    // ---- blocks (datasets, experiments) ---------------------------------------------

    block: $ => seq("{", repeat($._field), "}"),

    _field: $ => choice(
      $.assignment,
      $.sweep_entry,
      $.section,
      ";",
    ),

    assignment: $ => seq(
      field("path", $.path),
      "=",
      field("value", $._expression),
    ),

    // path ~ space (when parent in values)?  `when` may also start the next
    // field (`when = 3`, `when.x ~ ...`). ANTLR looks ahead as far as it
    // needs to tell; here the conflict below lets the GLR parser try both
    // and keep the one that goes on.
    sweep_entry: $ => seq(
      field("path", $.path),
      "~",
      field("space", $._expression),
      optional(field("condition", $.sweep_condition)),
    ),

    sweep_condition: $ => seq(
      "when",
      field("parent", $.path),
      "in",
      field("values", $._expression),
    ),

    // trainer { epochs = 10 }
    section: $ => seq(field("name", $._name), field("body", $.block)),

    path: $ => seq($._name, repeat(seq(".", $._name))),

    // ---- expressions --------------------------------------------------------------------

    _expression: $ => choice(
      $.call_expression,
      $.member_expression,
      $.unary_expression,
      $.binary_expression,
      $.objective_expression,
      $.parenthesized_expression,
      $.list,
      $.record,
      $.integer,
      $.float,
      $.string,
      $.boolean,
      $._name,
    ),

    call_expression: $ => prec(PREC.postfix, seq(
      field("function", $._expression),
      field("arguments", $.arguments),
    )),

    arguments: $ => seq(
      "(",
      commaSepTrailing(field("argument", choice($._expression, $.keyword_argument))),
      ")",
    ),

    keyword_argument: $ => seq(
      field("name", $._name),
      "=",
      field("value", $._expression),
    ),

    member_expression: $ => prec(PREC.postfix, seq(
      field("object", $._expression),
      ".",
      field("property", $._name),
    )),

    unary_expression: $ => prec(PREC.unary, seq(
      field("operator", choice("-", "+")),
      field("operand", $._expression),
    )),

    binary_expression: $ => choice(
      ...[
        [PREC.multiplicative, choice("*", "/", "%")],
        [PREC.additive, choice("+", "-")],
        [PREC.range, ".."],
        [PREC.then, "then"],
        [PREC.on, "on"],
      ].map(([p, op]) => prec.left(p, seq(
        field("left", $._expression),
        field("operator", op),
        field("right", $._expression),
      ))),
    ),

    objective_expression: $ => prec(PREC.objective, seq(
      field("goal", choice("minimize", "maximize")),
      field("operand", $._expression),
    )),

    parenthesized_expression: $ => seq("(", field("expression", $._expression), ")"),

    list: $ => seq("[", commaSepTrailing(field("element", $._expression)), "]"),

    record: $ => seq("{", commaSepTrailing($.record_entry), "}"),

    record_entry: $ => seq(
      field("key", $._name),
      ":",
      field("value", $._expression),
    ),

    // ---- literals ---------------------------------------------------------------------

    // 42, 1_000_000
    integer: _ => /[0-9](_?[0-9])*/,

    // 0.5, 2.5e-3, 1_000.0, 1e-3. Digits are required on both sides of the
    // dot, so `0..64` lexes as integer, `..`, integer: after `0.` the float
    // cannot go on and the lexer falls back to the integer `0`.
    float: _ => token(choice(
      seq(/[0-9](_?[0-9])*/, ".", /[0-9](_?[0-9])*/, optional(/[eE][+-]?[0-9]+/)),
      seq(/[0-9](_?[0-9])*/, /[eE][+-]?[0-9]+/),
    )),

    // "..." on one line; the compiler accepts the escapes \" \\ \n \t.
    string: $ => seq(
      "\"",
      repeat(choice($.string_content, $.escape_sequence)),
      token.immediate("\""),
    ),

    string_content: _ => token.immediate(prec(1, /[^"\\\r\n]+/)),

    escape_sequence: _ => token.immediate(seq("\\", /[^\r\n]/)),

    boolean: _ => choice("true", "false"),

    // ---- comments ------------------------------------------------------------------------

    line_comment: _ => token(seq("//", /[^\r\n]*/)),

    // Does not nest.
    block_comment: _ => token(seq("/*", /[^*]*\*+([^/*][^*]*\*+)*/, "/")),
  },
});
