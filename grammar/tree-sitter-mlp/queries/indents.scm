; Indentation, in nvim-treesitter's capture names (@indent.*). Helix's
; indent queries use other names (@indent, @outdent) and are not provided.

[
  (block)
  (model_body)
  (parameters)
  (arguments)
  (list)
  (record)
  (import_list)
  (shaped_type)
  (enum_type)
] @indent.begin

[
  "}"
  "]"
  ")"
] @indent.branch @indent.end

[
  (line_comment)
  (block_comment)
] @indent.auto

(string) @indent.ignore
