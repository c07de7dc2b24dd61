; Syntax highlighting for mlp (grammar/Mlp.g4, docs/language.md).
;
; Editors disagree on which of two patterns matching one node wins (the
; tree-sitter CLI, Helix: the first; Neovim: the last), so no two patterns
; here capture the same node: names are captured by the field that holds
; them, and predicates split the few names with a special meaning.

; ---- comments and literals ---------------------------------------------------

[
  (line_comment)
  (block_comment)
] @comment

(string) @string

(escape_sequence) @string.escape

(integer) @number

(float) @number.float

(boolean) @boolean

[
  "true"
  "false"
] @boolean

; ---- keywords ---------------------------------------------------------------------

"import" @keyword.import

[
  "dataset"
  "model"
  "experiment"
  "extern"
  "input"
  "output"
] @keyword

"repeat" @keyword.repeat

"when" @keyword.conditional

[
  "in"
  "then"
  "on"
  "minimize"
  "maximize"
] @keyword.operator

; ---- declarations --------------------------------------------------------------------

(import_declaration
  path: (identifier) @module)

(import_declaration
  wildcard: (wildcard) @character.special)

(import_list
  name: (identifier) @function)

(dataset_declaration
  name: (identifier) @constant)

(model_declaration
  name: (identifier) @function)

(experiment_declaration
  name: (identifier) @module)

; `extern layer linear(...)`: the kind is one of the built-in types
; (layer, metric, loss, ...).
(extern_declaration
  kind: (identifier) @type.builtin)

(extern_declaration
  name: (identifier) @function)

(annotation
  "@" @attribute
  name: (identifier) @attribute)

(parameter
  name: (identifier) @variable.parameter)

; ---- types ----------------------------------------------------------------------------

; Every valid type name is built in; anything else is an error (E0309).
((type_identifier) @type.builtin
  (#any-of? @type.builtin
    "int" "float" "bool" "string" "range" "any" "list" "enum"
    "f32" "f16" "bf16" "f64" "i32" "i64" "u8"
    "layer" "loss" "metric" "optimizer" "schedule" "strategy" "space" "search"
    "pruner" "storage" "source" "selector" "sink" "notifier" "interval"
    "function" "model" "dataset"))

((type_identifier) @type
  (#not-any-of? @type
    "int" "float" "bool" "string" "range" "any" "list" "enum"
    "f32" "f16" "bf16" "f64" "i32" "i64" "u8"
    "layer" "loss" "metric" "optimizer" "schedule" "strategy" "space" "search"
    "pruner" "storage" "source" "selector" "sink" "notifier" "interval"
    "function" "model" "dataset"))

(enum_type
  value: (identifier) @constant)

(ellipsis) @punctuation.special

; `batch` is the symbolic batch dimension; other names are dimension variables
; or parameters.
((shaped_type
  dimension: (identifier) @variable.builtin)
  (#eq? @variable.builtin "batch"))

((shaped_type
  dimension: (identifier) @variable)
  (#not-eq? @variable "batch"))

; ---- model statements ---------------------------------------------------------------

(input_statement
  name: (identifier) @variable)

(output_statement
  name: (identifier) @variable)

(let_statement
  name: (identifier) @variable)

(repeat_statement
  variable: (identifier) @variable)

; ---- blocks ---------------------------------------------------------------------------

(path
  (identifier) @property)

(section
  name: (identifier) @property)

(record_entry
  key: (identifier) @property)

; ---- expressions ----------------------------------------------------------------------

(call_expression
  function: (identifier) @function.call)

(keyword_argument
  name: (identifier) @variable.parameter)

(member_expression
  property: (identifier) @property)

; `val.accuracy`: a metric reference on a split.
((member_expression
  object: (identifier) @variable.builtin)
  (#any-of? @variable.builtin "train" "val" "test"))

((member_expression
  object: (identifier) @variable)
  (#not-any-of? @variable "train" "val" "test"))

; A name used as a value, in every place an expression can stand.
(dataset_declaration
  source: (identifier) @variable)

(annotation
  argument: (identifier) @variable)

(arguments
  argument: (identifier) @variable)

(parameter
  default: (identifier) @variable)

(interval_constraint
  low: (identifier) @variable)

(interval_constraint
  high: (identifier) @variable)

(compare_constraint
  bound: (identifier) @variable)

(output_statement
  value: (identifier) @variable)

(let_statement
  value: (identifier) @variable)

(repeat_statement
  count: (identifier) @variable)

(assignment
  value: (identifier) @variable)

(sweep_entry
  space: (identifier) @variable)

(sweep_condition
  values: (identifier) @variable)

(keyword_argument
  value: (identifier) @variable)

(record_entry
  value: (identifier) @variable)

(unary_expression
  operand: (identifier) @variable)

(objective_expression
  operand: (identifier) @variable)

(binary_expression
  left: (identifier) @variable)

(binary_expression
  right: (identifier) @variable)

(parenthesized_expression
  expression: (identifier) @variable)

(list
  element: (identifier) @variable)

; ---- operators and punctuation ---------------------------------------------------------

[
  "="
  "~"
  "->"
  "|"
  ">"
  ">="
  "<"
  "<="
  "!="
  "+"
  "-"
  "*"
  "/"
  "%"
  ".."
] @operator

"..." @punctuation.special

[
  "("
  ")"
  "["
  "]"
  "{"
  "}"
] @punctuation.bracket

[
  ","
  "."
  ":"
  ";"
] @punctuation.delimiter
