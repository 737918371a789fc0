// Command sidekick-keys lists falcosidekick's configuration keys and their
// Go types, read from its source: the Configuration struct of
// types/types.go (with the otlp_metrics Config it embeds), keyed as viper
// and mapstructure read them (field names lower-cased, squashed embeds
// inlined), cross-checked against every viper.SetDefault key in config.go.
// deploy's tests check each rendered falcosidekick configuration against
// the list (deploy/testdata/falcosidekick-keys.txt), so an output key or
// field falcosidekick does not know fails there.
//
//	go run ./hack/sidekick-keys -commit SHA DIR > deploy/testdata/falcosidekick-keys.txt
//
// DIR is a checkout of github.com/falcosecurity/falcosidekick at SHA.
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

func main() {
	commit := flag.String("commit", "", "the falcosidekick commit DIR holds (written into the header)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: sidekick-keys -commit SHA DIR\n\nLists falcosidekick's configuration keys and types from the source in DIR.")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || *commit == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *commit); err != nil {
		fmt.Fprintln(os.Stderr, "sidekick-keys:", err)
		os.Exit(1)
	}
}

// structs are the struct types of one package, by name.
type structs map[string]*ast.StructType

func parseDir(dir string) (structs, error) {
	out := structs{}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no Go files in %s", dir)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, s := range g.Specs {
				ts := s.(*ast.TypeSpec)
				if st, ok := ts.Type.(*ast.StructType); ok {
					out[ts.Name.Name] = st
				}
			}
		}
	}
	return out, nil
}

type walker struct {
	pkgs map[string]structs // "" is package types
	keys map[string]string  // dotted key -> Go type of a leaf, "struct" of a node
}

func (w *walker) walk(prefix, pkg string, st *ast.StructType) error {
	for _, f := range st.Fields.List {
		tag := ""
		if f.Tag != nil {
			v, _ := strconv.Unquote(f.Tag.Value)
			tag = reflect.StructTag(v).Get("mapstructure")
		}
		name, opts, _ := strings.Cut(tag, ",")
		typ := f.Type
		if p, ok := typ.(*ast.StarExpr); ok {
			typ = p.X
		}
		if len(f.Names) == 0 { // embedded
			if !strings.Contains(opts, "squash") {
				return fmt.Errorf("%s: embedded %s without squash", prefix, types.ExprString(typ))
			}
			p, st := w.resolve(pkg, typ)
			if st == nil {
				return fmt.Errorf("%s: embedded %s is not a struct of the source", prefix, types.ExprString(typ))
			}
			if err := w.walk(prefix, p, st); err != nil {
				return err
			}
			continue
		}
		for _, n := range f.Names {
			if !n.IsExported() || name == "-" {
				continue
			}
			key := strings.ToLower(n.Name)
			if name != "" {
				key = strings.ToLower(name)
			}
			if prefix != "" {
				key = prefix + "." + key
			}
			if p, st := w.resolve(pkg, typ); st != nil {
				w.keys[key] = "struct"
				if err := w.walk(key, p, st); err != nil {
					return err
				}
				continue
			}
			w.keys[key] = types.ExprString(f.Type)
		}
	}
	return nil
}

// resolve finds the struct a field's type names in the parsed packages.
func (w *walker) resolve(pkg string, e ast.Expr) (string, *ast.StructType) {
	switch t := e.(type) {
	case *ast.Ident:
		return pkg, w.pkgs[pkg][t.Name]
	case *ast.SelectorExpr:
		if x, ok := t.X.(*ast.Ident); ok {
			return x.Name, w.pkgs[x.Name][t.Sel.Name]
		}
	}
	return "", nil
}

// defaults are the keys config.go gives viper defaults for.
func defaults(path string) ([]string, error) {
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var out []string
	ast.Inspect(file, func(n ast.Node) bool {
		c, ok := n.(*ast.CallExpr)
		if !ok || len(c.Args) == 0 {
			return true
		}
		if s, ok := c.Fun.(*ast.SelectorExpr); ok && s.Sel.Name == "SetDefault" {
			if lit, ok := c.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				k, _ := strconv.Unquote(lit.Value)
				out = append(out, strings.ToLower(k))
			}
		}
		return true
	})
	return out, nil
}

func run(dir, commit string) error {
	w := &walker{pkgs: map[string]structs{}, keys: map[string]string{}}
	var err error
	if w.pkgs[""], err = parseDir(filepath.Join(dir, "types")); err != nil {
		return err
	}
	if w.pkgs["otlpmetrics"], err = parseDir(filepath.Join(dir, "outputs", "otlp_metrics")); err != nil {
		return err
	}
	root := w.pkgs[""]["Configuration"]
	if root == nil {
		return fmt.Errorf("%s: no Configuration struct in types/", dir)
	}
	if err := w.walk("", "", root); err != nil {
		return err
	}
	defs, err := defaults(filepath.Join(dir, "config.go"))
	if err != nil {
		return err
	}
	var missing []string
	for _, d := range defs {
		if _, ok := w.keys[d]; !ok {
			missing = append(missing, d)
		}
	}
	if len(missing) > len(defs)/20 {
		return fmt.Errorf("config.go sets defaults for %d keys the types do not have (%s): is DIR falcosidekick?", len(missing), strings.Join(missing, ", "))
	}
	names := make([]string, 0, len(w.keys))
	for k := range w.keys {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stdout, "# falcosidekick's configuration keys and Go types (key: lower case, as viper reads them; struct: a map of keys).\n")
	fmt.Fprintf(os.Stdout, "# Extracted by hack/sidekick-keys from github.com/falcosecurity/falcosidekick commit %s\n", commit)
	fmt.Fprintf(os.Stdout, "# (types/types.go Configuration, outputs/otlp_metrics Config; %d keys; %d of the %d config.go defaults among them).\n", len(names), len(defs)-len(missing), len(defs))
	for _, m := range missing {
		fmt.Fprintf(os.Stdout, "# config.go sets a default for %s, which no field reads (a typo there; falcosidekick ignores it).\n", m)
	}
	for _, k := range names {
		fmt.Fprintf(os.Stdout, "%s %s\n", k, w.keys[k])
	}
	return nil
}
