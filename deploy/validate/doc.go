// Command validate checks signgate's deployment files without a cluster:
//
//   - every kustomize overlay under deploy/kubernetes/overlays builds (with
//     sigs.k8s.io/kustomize/api, the library inside kubectl and kustomize);
//   - every object it yields decodes strictly into the official Kubernetes
//     types (k8s.io/api): an unknown field, a wrong type or an unknown kind
//     fails;
//   - the checks that matter for signgate hold (checks.go): probes on
//     /healthz and /readyz, the restricted security context, resources,
//     references between objects, the metrics port, the key Secret mounted
//     as a directory, and the SIGNGATE_* environment of every container
//     loads through the same config loader as the binary;
//   - the compose file parses with only the fields it knows, and its
//     services meet the same rules;
//   - the systemd environment files load through the config loader.
//
// It is its own module, so that the Kubernetes libraries stay out of
// signgate's go.mod. Run it from the repository root:
//
//	(cd deploy/validate && go run . -root ../..)
//
// It does not replace kubeconform or a server-side dry run: it has no
// OpenAPI schema of the API server, so value ranges and formats that only
// the API server checks (a DNS label's length, say) are not checked.
package main
