// lms-helm-render renders a Helm chart the way `helm template` does, for the chart tests on
// machines where Helm itself cannot be installed (Debian 12 does not package it).
//
// It uses the engine Helm uses: Go's text/template with the Sprig function library, plus Helm's
// own additions (include, tpl, required, toYaml, fromYaml, toJson, fromJson, lookup), the built-in
// objects (.Values, .Release, .Chart, .Capabilities, .Template, .Files), values merged from the
// chart's values.yaml and each -f file in order (null deletes a key, maps merge, anything else
// replaces), and the merged values checked against values.schema.json before anything renders.
// Output: one "---" document per template that renders to something, each headed "# Source:".
//
// --json prints the manifests parsed, as a JSON array of objects; --show-values the merged values
// as JSON (tests read both without a YAML library of their own).
//
//	lms-helm-render [-f values.yaml]... [--release NAME] [--namespace NS] [--notes|--json|--show-values] CHART_DIR
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"github.com/xeipuuv/gojsonschema"
	"gopkg.in/yaml.v3"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

func main() {
	var files valueFiles
	flag.Var(&files, "f", "a values file (repeatable; later files win)")
	release := flag.String("release", "lms", "the release name")
	namespace := flag.String("namespace", "default", "the release namespace")
	notes := flag.Bool("notes", false, "render templates/NOTES.txt instead of the manifests")
	asJSON := flag.Bool("json", false, "print the manifests as a JSON array of objects")
	showValues := flag.Bool("show-values", false, "print the merged, checked values as JSON")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: lms-helm-render [-f values.yaml]... [--release NAME] [--namespace NS] [--notes] CHART_DIR")
		os.Exit(2)
	}
	out, values, err := render(flag.Arg(0), files, *release, *namespace, *notes)
	if err == nil && *showValues {
		out, err = encodeJSON(values)
	} else if err == nil && *asJSON {
		out, err = manifestsAsJSON(out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
	fmt.Print(out)
}

func encodeJSON(v interface{}) (string, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	return string(data) + "\n", err
}

// manifestsAsJSON parses the rendered stream; a document that is not valid YAML is an error.
func manifestsAsJSON(stream string) (string, error) {
	dec := yaml.NewDecoder(strings.NewReader(stream))
	objects := []interface{}{}
	for {
		var doc map[string]interface{}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("the rendered manifests are not valid YAML: %v", err)
		}
		if doc != nil {
			objects = append(objects, doc)
		}
	}
	return encodeJSON(objects)
}

func readYAML(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if out == nil {
		out = map[string]interface{}{}
	}
	return out, nil
}

// merge lays `over` onto `base` as Helm coalesces values: maps merge key by key, null removes
// the key, any other value replaces.
func merge(base, over map[string]interface{}) map[string]interface{} {
	for k, v := range over {
		if v == nil {
			delete(base, k)
			continue
		}
		if overMap, ok := v.(map[string]interface{}); ok {
			if baseMap, ok := base[k].(map[string]interface{}); ok {
				base[k] = merge(baseMap, overMap)
				continue
			}
		}
		base[k] = v
	}
	return base
}

func checkSchema(chartDir, chartName string, values map[string]interface{}) error {
	schema, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	result, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewGoLoader(values))
	if err != nil {
		return fmt.Errorf("values.schema.json: %v", err)
	}
	if result.Valid() {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "values don't meet the specifications of the schema(s) in the following chart(s):\n%s:\n", chartName)
	for _, e := range result.Errors() {
		fmt.Fprintf(&b, "- %s\n", e.String())
	}
	return errors.New(strings.TrimRight(b.String(), "\n"))
}

type files struct{ dir string }

// Get returns a chart file's contents, "" when it does not exist (as Helm's .Files.Get).
func (f files) Get(name string) string {
	data, err := os.ReadFile(filepath.Join(f.dir, name))
	if err != nil {
		return ""
	}
	return string(data)
}

type apiVersions []string

func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func render(chartDir string, valueFiles []string, release, namespace string, notes bool) (string, map[string]interface{}, error) {
	chart, err := readYAML(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return "", nil, err
	}
	name, _ := chart["name"].(string)
	values, err := readYAML(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return "", nil, err
	}
	for _, f := range valueFiles {
		over, err := readYAML(f)
		if err != nil {
			return "", nil, err
		}
		values = merge(values, over)
	}
	if err := checkSchema(chartDir, name, values); err != nil {
		return "", nil, err
	}

	// Helm's objects, by the names templates use.
	chartObject := map[string]interface{}{}
	for k, v := range chart {
		chartObject[strings.ToUpper(k[:1])+k[1:]] = v
	}
	top := map[string]interface{}{
		"Values":  values,
		"Chart":   chartObject,
		"Release": map[string]interface{}{"Name": release, "Namespace": namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": "v1.29.0", "Major": "1", "Minor": "29", "GitVersion": "v1.29.0"},
			"APIVersions": apiVersions{"v1", "apps/v1", "policy/v1", "monitoring.coreos.com/v1"},
		},
		"Files": files{chartDir},
	}

	root := template.New("root").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env") // Helm leaves the renderer's environment out of charts
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		out := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &out); err != nil {
			out["Error"] = err.Error()
		}
		return out
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	funcs["lookup"] = func(string, string, string, string) map[string]interface{} { return map[string]interface{}{} }
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	root.Funcs(funcs)

	templateDir := filepath.Join(chartDir, "templates")
	entries, err := os.ReadDir(templateDir)
	if err != nil {
		return "", nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(templateDir, e.Name()))
		if err != nil {
			return "", nil, err
		}
		full := name + "/templates/" + e.Name()
		if _, err := root.New(full).Parse(string(data)); err != nil {
			return "", nil, err
		}
		names = append(names, full)
	}
	sort.Strings(names)

	var out strings.Builder
	for _, full := range names {
		base := filepath.Base(full)
		isNotes := base == "NOTES.txt"
		if strings.HasPrefix(base, "_") || isNotes != notes {
			continue
		}
		data := map[string]interface{}{}
		for k, v := range top {
			data[k] = v
		}
		data["Template"] = map[string]interface{}{"Name": full, "BasePath": name + "/templates"}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, full, data); err != nil {
			return "", nil, err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if strings.TrimSpace(text) == "" {
			continue
		}
		if notes {
			out.WriteString(text)
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", full, strings.Trim(text, "\n"))
	}
	return out.String(), values, nil
}
