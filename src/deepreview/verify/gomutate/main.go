// Command gomutate reads Go files and prints, as JSON, what deepreview needs to probe their
// added lines: the statements that start on those lines, the functions holding them, and
// mutations of them (byte offsets into the file and the replacement text).
//
// Usage: gomutate FILE=LINES... where LINES is a comma-separated list of line numbers and
// ranges ("3,5-9"). It reads the files only; it never builds or runs them.
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
)

// Mutant is one edit of a file: bytes [Start, End) replaced by Replacement.
type Mutant struct {
	Line        int    `json:"line"`
	Start       int    `json:"start"`
	End         int    `json:"end"`
	Replacement string `json:"replacement"`
	Description string `json:"description"`
	Function    string `json:"function"`
	Trivial     bool   `json:"trivial"`
}

// Unit is a function whose body holds added lines.
type Unit struct {
	Name     string `json:"name"`
	First    int    `json:"first"`
	Last     int    `json:"last"`
	Exported bool   `json:"exported"`
}

// File is the answer for one file.
type File struct {
	Path       string   `json:"path"`
	Error      string   `json:"error,omitempty"`
	Statements [][2]int `json:"statements"`
	Units      []Unit   `json:"units"`
	Mutants    []Mutant `json:"mutants"`
}

const shown = 60

var flipped = map[token.Token]token.Token{
	token.LSS: token.LEQ, token.LEQ: token.LSS,
	token.GTR: token.GEQ, token.GEQ: token.GTR,
	token.EQL: token.NEQ, token.NEQ: token.EQL,
	token.LAND: token.LOR, token.LOR: token.LAND,
}

var numeric = map[string]bool{
	"int": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"uintptr": true, "float32": true, "float64": true, "complex64": true,
	"complex128": true, "byte": true, "rune": true,
}

// trivialMethods only describe a value: a mutant there changes no result.
var trivialMethods = map[string]bool{"String": true, "GoString": true, "Error": true}

func parseLines(spec string) (map[int]bool, error) {
	lines := map[int]bool{}
	for _, part := range strings.Split(spec, ",") {
		if part == "" {
			continue
		}
		lo, hi, found := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if found {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, err
			}
		}
		for n := a; n <= b; n++ {
			lines[n] = true
		}
	}
	return lines, nil
}

type reader struct {
	fset  *token.FileSet
	src   []byte
	lines map[int]bool
	out   *File
	seen  map[string]bool
}

func (r *reader) off(p token.Pos) int    { return r.fset.Position(p).Offset }
func (r *reader) line(p token.Pos) int   { return r.fset.Position(p).Line }
func (r *reader) added(p token.Pos) bool { return r.lines[r.line(p)] }

func (r *reader) text(n ast.Node) string { return string(r.src[r.off(n.Pos()):r.off(n.End())]) }

func short(code string) string {
	one := strings.Join(strings.Fields(code), " ")
	if len([]rune(one)) <= shown {
		return one
	}
	return string([]rune(one)[:shown-1]) + "…"
}

func (r *reader) add(line int, start, end token.Pos, repl, desc, fn string, trivial bool) {
	key := fmt.Sprintf("%d %s", line, desc)
	if r.seen[key] {
		return
	}
	r.seen[key] = true
	r.out.Mutants = append(r.out.Mutants, Mutant{
		Line: line, Start: r.off(start), End: r.off(end), Replacement: repl,
		Description: desc, Function: fn, Trivial: trivial,
	})
}

func funcName(d *ast.FuncDecl) (string, bool) {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name, ast.IsExported(d.Name.Name)
	}
	t := d.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
			continue
		case *ast.IndexExpr:
			t = x.X
			continue
		case *ast.IndexListExpr:
			t = x.X
			continue
		}
		break
	}
	recv := "?"
	if id, ok := t.(*ast.Ident); ok {
		recv = id.Name
	}
	return recv + "." + d.Name.Name, ast.IsExported(recv) && ast.IsExported(d.Name.Name)
}

// zero is the zero value of a result type simple enough to write, else "".
func zero(t ast.Expr) string {
	switch x := t.(type) {
	case *ast.Ident:
		switch {
		case x.Name == "bool":
			return "false"
		case numeric[x.Name]:
			return "0"
		case x.Name == "string":
			return `""`
		case x.Name == "error" || x.Name == "any":
			return "nil"
		}
	case *ast.StarExpr, *ast.MapType, *ast.ChanType, *ast.FuncType:
		return "nil"
	case *ast.ArrayType:
		if x.Len == nil {
			return "nil"
		}
	case *ast.InterfaceType:
		return "nil"
	}
	return ""
}

// other is the value a result already at its zero value is replaced by.
func other(z string) string {
	switch z {
	case "false":
		return "true"
	case "0":
		return "1"
	}
	return ""
}

func results(ft *ast.FuncType) []ast.Expr {
	var out []ast.Expr
	if ft == nil || ft.Results == nil {
		return out
	}
	for _, f := range ft.Results.List {
		n := len(f.Names)
		if n == 0 {
			n = 1
		}
		for i := 0; i < n; i++ {
			out = append(out, f.Type)
		}
	}
	return out
}

// blank says whether every assigned name is the blank identifier (`_ = x` only uses x).
func blank(lhs []ast.Expr) bool {
	for _, e := range lhs {
		if id, ok := e.(*ast.Ident); !ok || id.Name != "_" {
			return false
		}
	}
	return true
}

func isOutputCall(s ast.Stmt) bool {
	es, ok := s.(*ast.ExprStmt)
	if !ok {
		return false
	}
	call, ok := es.X.(*ast.CallExpr)
	if !ok {
		return false
	}
	switch f := call.Fun.(type) {
	case *ast.Ident:
		return f.Name == "print" || f.Name == "println"
	case *ast.SelectorExpr:
		if pkg, ok := f.X.(*ast.Ident); ok {
			name := strings.ToLower(pkg.Name)
			if name == "log" || name == "logger" || name == "slog" {
				return true
			}
			return name == "fmt" && strings.Contains(f.Sel.Name, "rint")
		}
	}
	return false
}

// owner is the innermost function (declaration or literal) around a node while walking.
type owner struct {
	name    string
	trivial bool
	ftype   *ast.FuncType
}

func (r *reader) walk(n ast.Node, own owner, inList bool) {
	if n == nil {
		return
	}
	switch x := n.(type) {
	case *ast.FuncDecl:
		name, exported := funcName(x)
		own = owner{name, trivialMethods[x.Name.Name] && x.Recv != nil, x.Type}
		if x.Body != nil {
			first := r.line(x.Body.Lbrace)
			if len(x.Body.List) > 0 {
				first = r.line(x.Body.List[0].Pos())
			}
			last := r.line(x.Body.Rbrace)
			for l := first; l <= last; l++ {
				if r.lines[l] {
					r.out.Units = append(r.out.Units, Unit{name, first, last, exported})
					break
				}
			}
		}
	case *ast.FuncLit:
		own = owner{own.name, own.trivial, x.Type}
	}
	if s, ok := n.(ast.Stmt); ok && r.added(s.Pos()) {
		r.statement(s, own, inList)
	}
	if e, ok := n.(*ast.BinaryExpr); ok && r.added(e.Pos()) {
		if to, ok := flipped[e.Op]; ok {
			before := r.text(e)
			at := r.off(e.OpPos) - r.off(e.Pos())
			after := before[:at] + to.String() + before[at+len(e.Op.String()):]
			desc := fmt.Sprintf("`%s` → `%s`", short(before), short(after))
			r.add(r.line(e.Pos()), e.OpPos, e.OpPos+token.Pos(len(e.Op.String())), to.String(), desc, own.name, own.trivial)
		}
	}
	// Children, with whether each statement sits directly in a statement list.
	switch x := n.(type) {
	case *ast.BlockStmt:
		for _, s := range x.List {
			r.walk(s, own, true)
		}
		return
	case *ast.CaseClause:
		for _, e := range x.List {
			r.walk(e, own, false)
		}
		for _, s := range x.Body {
			r.walk(s, own, true)
		}
		return
	case *ast.CommClause:
		r.walk(x.Comm, own, false)
		for _, s := range x.Body {
			r.walk(s, own, true)
		}
		return
	}
	ast.Inspect(n, func(c ast.Node) bool {
		if c == n {
			return true
		}
		if c != nil {
			r.walk(c, own, false)
		}
		return false
	})
}

func (r *reader) statement(s ast.Stmt, own owner, inList bool) {
	line := r.line(s.Pos())
	switch s.(type) {
	case *ast.BlockStmt, *ast.EmptyStmt, *ast.LabeledStmt, *ast.CaseClause, *ast.CommClause:
	default:
		pos := r.fset.Position(s.Pos())
		if n := len(r.out.Statements); n == 0 || r.out.Statements[n-1][0] != line {
			r.out.Statements = append(r.out.Statements, [2]int{line, pos.Column})
		}
	}
	switch x := s.(type) {
	case *ast.IfStmt:
		if r.added(x.Cond.Pos()) {
			cond := r.text(x.Cond)
			desc := fmt.Sprintf("`if %s` → `if !(%s)`", short(cond), short(cond))
			r.add(r.line(x.Cond.Pos()), x.Cond.Pos(), x.Cond.End(), "!("+cond+")", desc, own.name, own.trivial)
		}
	case *ast.ForStmt:
		if x.Cond != nil && r.added(x.Cond.Pos()) {
			cond := r.text(x.Cond)
			desc := fmt.Sprintf("`for %s` → `for !(%s)`", short(cond), short(cond))
			r.add(r.line(x.Cond.Pos()), x.Cond.Pos(), x.Cond.End(), "!("+cond+")", desc, own.name, own.trivial)
		}
	case *ast.ReturnStmt:
		types := results(own.ftype)
		if len(x.Results) != len(types) {
			return
		}
		for i, value := range x.Results {
			z := zero(types[i])
			v := r.text(value)
			if v == z && len(types) == 1 {
				z = other(z)
			}
			if z == "" || v == z {
				continue
			}
			vals := make([]string, len(x.Results))
			for j, e := range x.Results {
				vals[j] = r.text(e)
			}
			vals[i] = z
			desc := fmt.Sprintf("`%s` → `return %s`", short(r.text(x)), short(strings.Join(vals, ", ")))
			r.add(line, value.Pos(), value.End(), z, desc, own.name, own.trivial)
		}
	case *ast.ExprStmt, *ast.IncDecStmt, *ast.AssignStmt:
		if a, ok := x.(*ast.AssignStmt); ok && (a.Tok == token.DEFINE || blank(a.Lhs)) {
			return
		}
		if inList {
			desc := fmt.Sprintf("delete `%s`", short(r.text(s)))
			r.add(line, s.Pos(), s.End(), "", desc, own.name, own.trivial || isOutputCall(s))
		}
	}
}

func read(path string, lines map[int]bool) File {
	out := File{Path: path, Statements: [][2]int{}, Units: []Unit{}, Mutants: []Mutant{}}
	src, err := os.ReadFile(path)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	r := &reader{fset: fset, src: src, lines: lines, out: &out, seen: map[string]bool{}}
	for _, d := range f.Decls {
		r.walk(d, owner{}, false)
	}
	return out
}

func main() {
	files := []File{}
	for _, arg := range os.Args[1:] {
		i := strings.LastIndex(arg, "=")
		if i < 0 {
			fmt.Fprintf(os.Stderr, "gomutate: argument %q is not FILE=LINES\n", arg)
			os.Exit(2)
		}
		lines, err := parseLines(arg[i+1:])
		if err != nil {
			fmt.Fprintf(os.Stderr, "gomutate: %q: %v\n", arg, err)
			os.Exit(2)
		}
		files = append(files, read(arg[:i], lines))
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(files); err != nil {
		fmt.Fprintln(os.Stderr, "gomutate:", err)
		os.Exit(1)
	}
}
