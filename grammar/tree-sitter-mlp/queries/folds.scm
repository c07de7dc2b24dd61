; Folding (Neovim: foldmethod=expr with vim.treesitter.foldexpr()).

[
  (block)
  (model_body)
  (parameters)
  (arguments)
  (list)
  (record)
  (import_list)
  (block_comment)
] @fold
