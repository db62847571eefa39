package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/signgate/signgate/config"
)

// composeFile is the part of the Compose specification the demo stack
// uses. Parsing is strict: a key outside it (a typo such as read_olny, or
// a setting these checks do not know) fails.
type composeFile struct {
	Name     string                    `json:"name"`
	Services map[string]composeService `json:"services"`
	Volumes  map[string]any            `json:"volumes"`
}

type composeService struct {
	Build           *composeBuild     `json:"build"`
	Image           string            `json:"image"`
	Command         []string          `json:"command"`
	Environment     map[string]string `json:"environment"`
	Ports           []string          `json:"ports"`
	Volumes         []string          `json:"volumes"`
	ReadOnly        bool              `json:"read_only"`
	Tmpfs           []string          `json:"tmpfs"`
	User            string            `json:"user"`
	CapDrop         []string          `json:"cap_drop"`
	SecurityOpt     []string          `json:"security_opt"`
	StopGracePeriod string            `json:"stop_grace_period"`
	Restart         string            `json:"restart"`
	DependsOn       []string          `json:"depends_on"`
}

type composeBuild struct {
	Context    string            `json:"context"`
	Dockerfile string            `json:"dockerfile"`
	Args       map[string]string `json:"args"`
}

// interpolation is ${VAR}, ${VAR:-default} or ${VAR-default}.
var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:?-([^}]*))?\}`)

// checkCompose parses a compose file strictly, with ${VAR:-default}
// replaced by its default, and checks every service.
func checkCompose(file string) []string {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, filepath.Base(file)+": "+fmt.Sprintf(format, args...))
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return []string{err.Error()}
	}
	text := interpolation.ReplaceAllStringFunc(string(raw), func(m string) string {
		sub := interpolation.FindStringSubmatch(m)
		if sub[2] == "" {
			bad("${%s} has no default: the file must work with no variables set", sub[1])
		}
		return sub[3]
	})
	var cf composeFile
	if err := yaml.UnmarshalStrict([]byte(text), &cf); err != nil {
		bad("%v", err)
		return problems
	}
	if len(cf.Services) == 0 {
		bad("no services")
	}
	for _, name := range sortedKeys(cf.Services) {
		s := cf.Services[name]
		where := "service " + name
		if s.Build != nil {
			ctx := filepath.Join(filepath.Dir(file), s.Build.Context)
			df := s.Build.Dockerfile
			if df == "" {
				df = "Dockerfile"
			}
			if _, err := os.Stat(filepath.Join(ctx, df)); err != nil {
				bad("%s: build: %v", where, err)
			}
		}
		if s.Image == "" || strings.HasSuffix(s.Image, ":latest") || !strings.Contains(filepath.Base(s.Image), ":") {
			bad("%s: image %q: name a tag", where, s.Image)
		}
		if !s.ReadOnly {
			bad("%s: read_only is not true", where)
		}
		if s.User != "65532:65532" {
			bad("%s: user %q, want 65532:65532 (the image's nonroot)", where, s.User)
		}
		if !slices.Contains(s.CapDrop, "ALL") {
			bad("%s: cap_drop lacks ALL", where)
		}
		if !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
			bad("%s: security_opt lacks no-new-privileges:true", where)
		}
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				bad("%s: port %q is published on every interface; the demo's login is demo/demo", where, p)
			}
		}
		for _, k := range sortedKeys(s.Environment) {
			if strings.HasPrefix(k, config.Prefix) && !knownVariable(k) {
				bad("%s: %s is not a signgate variable", where, k)
			}
		}
		if len(s.Command) == 0 {
			bad("%s: no command", where)
			continue
		}
		tmp := slices.ContainsFunc(s.Tmpfs, func(t string) bool { return t == "/tmp" || strings.HasPrefix(t, "/tmp:") })
		switch s.Command[0] {
		case "demo":
			// The demo keeps its edge's SQLite database in a temporary
			// directory.
			if !tmp {
				bad("%s: the demo writes to /tmp: add a tmpfs", where)
			}
		case "gateway":
			if _, err := config.LoadGateway(s.Environment); err != nil {
				bad("%s: signgate gateway would not start: %s", where, oneLine(err))
			}
		case "edge":
			if _, err := config.LoadEdge(s.Environment); err != nil {
				bad("%s: signgate edge would not start: %s", where, oneLine(err))
			}
		default:
			bad("%s: command %q, want demo, gateway or edge", where, s.Command[0])
		}
	}
	return problems
}

// checkEnvFile loads a systemd EnvironmentFile (gateway.env, edge.env)
// through the config loader of its command, on top of the Environment=
// lines of the unit next to it (signgate-<command>.service).
func checkEnvFile(file string) []string {
	command := strings.TrimSuffix(filepath.Base(file), ".env")
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, filepath.Base(file)+": "+fmt.Sprintf(format, args...))
	}
	env := map[string]string{}
	unit := filepath.Join(filepath.Dir(file), "signgate-"+command+".service")
	if err := readUnitEnvironment(unit, env); err != nil {
		bad("%v", err)
	}
	if err := readEnvFile(file, env); err != nil {
		bad("%v", err)
		return problems
	}
	for _, k := range sortedKeys(env) {
		if strings.HasPrefix(k, config.Prefix) && !knownVariable(k) {
			bad("%s is not a signgate variable", k)
		}
	}
	var err error
	switch command {
	case "gateway":
		_, err = config.LoadGateway(env)
	case "edge":
		_, err = config.LoadEdge(env)
	default:
		bad("name it gateway.env or edge.env")
	}
	if err != nil {
		bad("signgate %s would not start: %s", command, oneLine(err))
	}
	return problems
}

// readEnvFile reads KEY=VALUE lines as systemd does: # and ; start
// comments, and a value may be quoted.
func readEnvFile(file string, env map[string]string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("%s:%d: not KEY=VALUE", filepath.Base(file), n)
		}
		env[strings.TrimSpace(k)] = unquote(strings.TrimSpace(v))
	}
	return sc.Err()
}

// readUnitEnvironment adds the Environment= assignments of a unit file,
// with %S (the state directory root) expanded.
func readUnitEnvironment(unit string, env map[string]string) error {
	b, err := os.ReadFile(unit)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(b), "\n") {
		v, ok := strings.CutPrefix(strings.TrimSpace(line), "Environment=")
		if !ok {
			continue
		}
		k, val, ok := strings.Cut(unquote(v), "=")
		if !ok {
			return fmt.Errorf("%s: %q is not KEY=VALUE", filepath.Base(unit), line)
		}
		env[k] = strings.ReplaceAll(val, "%S", "/var/lib")
	}
	return nil
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
