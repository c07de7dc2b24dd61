" *.mlp files are the mlp experiment language of mlc (grammar/Mlp.g4).
" Vim's own filetype.vim maps *.mlp to OCaml with `setf`, which would keep
" that choice, so this uses `set filetype=` to override it.
autocmd BufNewFile,BufRead *.mlp set filetype=mlp
