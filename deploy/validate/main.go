package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	root := flag.String("root", "../..", "the repository `directory`")
	show := flag.String("build", "", "only print what the kustomization in `directory` builds to, as kubectl kustomize does")
	flag.Parse()
	if *show != "" {
		docs, err := build(*show)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for _, d := range docs {
			fmt.Printf("---\n%s", d)
		}
		return
	}
	problems := validate(*root, os.Stdout)
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "FAIL:", p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "%d problems\n", len(problems))
		os.Exit(1)
	}
	fmt.Println("deploy: ok")
}

// validate checks every deployment file under root/deploy and returns the
// problems, writing a line per file checked to out.
func validate(root string, out io.Writer) []string {
	var problems []string
	overlays, _ := filepath.Glob(filepath.Join(root, "deploy", "kubernetes", "overlays", "*", "kustomization.yaml"))
	if len(overlays) == 0 {
		problems = append(problems, "no kustomize overlay under deploy/kubernetes/overlays")
	}
	for _, k := range overlays {
		dir := filepath.Dir(k)
		name := "overlays/" + filepath.Base(dir)
		docs, err := build(dir)
		if err != nil {
			problems = append(problems, name+": "+err.Error())
			continue
		}
		b, ps := decodeAll(name, docs)
		if b != nil {
			ps = append(ps, check(b)...)
			fmt.Fprintf(out, "%s: kustomize build: %d objects; strict decoding and checks: %d problems\n", name, b.count, len(ps))
		}
		problems = append(problems, ps...)
	}
	composes, _ := filepath.Glob(filepath.Join(root, "deploy", "compose", "*.yaml"))
	if len(composes) == 0 {
		problems = append(problems, "no compose file under deploy/compose")
	}
	for _, f := range composes {
		ps := checkCompose(f)
		fmt.Fprintf(out, "%s: %d problems\n", rel(root, f), len(ps))
		problems = append(problems, ps...)
	}
	envs, _ := filepath.Glob(filepath.Join(root, "deploy", "systemd", "*.env"))
	for _, f := range envs {
		ps := checkEnvFile(f)
		fmt.Fprintf(out, "%s: %d problems\n", rel(root, f), len(ps))
		problems = append(problems, ps...)
	}
	return problems
}

func rel(root, f string) string {
	if r, err := filepath.Rel(root, f); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return f
}
