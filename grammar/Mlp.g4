// The mlp experiment language. docs/language.md is the reference; this file is
// the single source of truth for its syntax. Statement separators are
// optional: every statement starts with a keyword or a name, and no
// expression can be continued by one, so `a = 1 b = 2` and `a = 1; b = 2`
// parse alike and newlines carry no meaning.
grammar Mlp;

file : item* EOF ;

item
  : importDecl
  | datasetDecl
  | modelDecl
  | experimentDecl
  | externDecl
  | ';'
  ;

// import std.nn.*        every public name of std/nn.mlp
// import std.nn.{a, b}   the listed names
// import std.nn.linear   one name (or the whole module std/nn/linear.mlp)
importDecl
  : IMPORT parts+=ident ('.' parts+=ident)* ('.' (star='*' | '{' names+=ident (',' names+=ident)* ','? '}'))?
  ;

datasetDecl : DATASET name=ident '=' source=expr block? ;

modelDecl : MODEL name=ident params? '{' modelStmt* '}' ;

experimentDecl : EXPERIMENT name=ident block ;

// Declarations of what the runtime implements, used by stdlib/std/*.mlp:
//   @goal(max) extern metric accuracy()
//   extern layer linear(x: f32[..., in], out: int > 0) -> f32[..., out]
externDecl : annotation* EXTERN kind=ident name=ident params? ('->' result=type)? ;

annotation : '@' ident ('(' expr (',' expr)* ')')? ;

params : '(' (param (',' param)* ','?)? ')' ;

// `name: int | string` accepts either type.
param : ident ':' type ('|' type)* constraint? ('=' expr)? ;

// int, float, bool, string, f32[batch, 64], list[metric], enum(min, max)
type
  : ident '[' typeArg (',' typeArg)* ','? ']'          # shapedType
  | ident '(' ident (',' ident)* ','? ')'              # enumType
  | ident                                              # namedType
  ;

typeArg : ellipsis='...' | expr ;

constraint
  : IN open=('[' | '(') lo=expr ',' hi=expr close=(']' | ')')   # intervalConstraint
  | op=('>' | '>=' | '<' | '<=' | '!=') bound=expr                  # compareConstraint
  ;

modelStmt
  : INPUT ident ':' type                                      # inputStmt
  | OUTPUT ident (':' type)? '=' expr                         # outputStmt
  | REPEAT (var=ident IN)? count=expr '{' modelStmt* '}'      # repeatStmt
  | ident '=' expr                                            # letStmt
  | ';'                                                       # emptyModelStmt
  ;

block : '{' field* '}' ;

field
  : path '=' expr        # assignField
  | path '~' expr (WHEN when=path IN cond=expr)?   # sweepField
  | ident block          # blockField
  | ';'                  # emptyField
  ;

path : ident ('.' ident)* ;

// Precedence, loosest first: `on`, `then`, `..`, additive, multiplicative,
// unary minus, postfix (call, member access).
expr
  : expr '(' args? ')'                                     # callExpr
  | expr '.' ident                                         # memberExpr
  | op=('-' | '+') expr                                    # unaryExpr
  | expr op=('*' | '/' | '%') expr                         # binaryExpr
  | expr op=('+' | '-') expr                               # binaryExpr
  | expr op='..' expr                                      # binaryExpr
  | goal=(MINIMIZE | MAXIMIZE) expr                        # objectiveExpr
  | expr op=THEN expr                                      # binaryExpr
  | expr op=ON expr                                        # binaryExpr
  | '(' expr ')'                                           # parenExpr
  | '[' (expr (',' expr)* ','?)? ']'                       # listExpr
  | '{' (recordEntry (',' recordEntry)* ','?)? '}'         # recordExpr
  | INT                                                    # intExpr
  | FLOAT                                                  # floatExpr
  | STRING                                                 # stringExpr
  | (TRUE | FALSE)                                         # boolExpr
  | ident                                                  # nameExpr
  ;

args : arg (',' arg)* ','? ;
arg : (name=ident '=')? expr ;

recordEntry : ident ':' expr ;

// Keywords that only start declarations or statements may still be used as
// names (`model = MLP()`, `model.hidden ~ choice(64, 128)`).
ident : IDENT | IMPORT | DATASET | MODEL | EXPERIMENT | EXTERN | INPUT | OUTPUT | REPEAT | WHEN ;

IMPORT     : 'import' ;
DATASET    : 'dataset' ;
MODEL      : 'model' ;
EXPERIMENT : 'experiment' ;
EXTERN     : 'extern' ;
INPUT      : 'input' ;
OUTPUT     : 'output' ;
REPEAT     : 'repeat' ;
IN         : 'in' ;
THEN       : 'then' ;
ON         : 'on' ;
WHEN       : 'when' ;
TRUE       : 'true' ;
FALSE      : 'false' ;
MINIMIZE   : 'minimize' ;
MAXIMIZE   : 'maximize' ;

IDENT : [a-zA-Z_] [a-zA-Z_0-9]* ;

// `0..64` is a range of two integers, not the float `0.` followed by `.64`.
FLOAT
  : DIGITS '.' DIGITS EXPONENT?
  | DIGITS EXPONENT
  ;
INT : DIGITS ;
fragment DIGITS : [0-9] ('_'? [0-9])* ;
fragment EXPONENT : [eE] [+-]? [0-9]+ ;

STRING : '"' (~["\\\r\n] | '\\' ~[\r\n])* '"' ;

LINE_COMMENT  : '//' ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT : '/*' .*? '*/' -> channel(HIDDEN) ;
WS            : [ \t\r\n\f]+ -> channel(HIDDEN) ;

// Error tokens: the lexer never fails on its own. These match what the rules
// above cannot, so the front end can name the exact mistake and its place.
UNTERMINATED_STRING  : '"' (~["\\\r\n] | '\\' ~[\r\n])* '\\'? ;
// A comment body that never contains `*/`; a closed comment is one character
// longer and so wins as BLOCK_COMMENT.
UNTERMINATED_COMMENT : '/*' (~'*' | '*'+ ~[*/])* '*'* ;
BAD_NUMBER           : DIGITS ('.' DIGITS)? [eE] [+-]? ;
UNKNOWN_CHAR         : . ;
