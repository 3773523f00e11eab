package cni

import (
	"fmt"
	"strings"
)

// ManifestOptions shape the DaemonSet manifest.
type ManifestOptions struct {
	Image      string // meshcheck-cni image, preloaded in the node image
	PullPolicy string // IfNotPresent when empty; Never also makes sense
}

// Manifest renders the ServiceAccount, RBAC and DaemonSet of meshcheck-cni
// as kind's /kind/manifests/default-cni.yaml. The marker lines make kind
// template it (POD_SUBNET gets the cluster's pod subnet) and patch it
// (CONTROL_PLANE_ENDPOINT, so the daemon reaches the API server before
// kube-proxy programs the service VIP). Applied without kind, POD_SUBNET
// keeps its template text, which the daemon ignores.
func Manifest(o ManifestOptions) ([]byte, error) {
	if o.Image == "" || strings.ContainsAny(o.Image, " \t\n\"'{}") {
		return nil, fmt.Errorf("image %q is not an image reference", o.Image)
	}
	switch o.PullPolicy {
	case "":
		o.PullPolicy = "IfNotPresent"
	case "IfNotPresent", "Never", "Always":
	default:
		return nil, fmt.Errorf("pull policy %q: want IfNotPresent, Never or Always", o.PullPolicy)
	}
	return []byte(fmt.Sprintf(manifest, o.Image, o.PullPolicy)), nil
}

const manifest = `# meshcheck-cni: the default CNI of meshcheck's kind node image (build/images/node.sh)
# would you kindly template this file
# would you kindly patch this file
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: meshcheck-cni
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: meshcheck-cni
rules:
- apiGroups: [""]
  resources: ["nodes"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: meshcheck-cni
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: meshcheck-cni
subjects:
- kind: ServiceAccount
  name: meshcheck-cni
  namespace: kube-system
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: meshcheck-cni
  namespace: kube-system
  labels:
    app: meshcheck-cni
    k8s-app: meshcheck-cni
spec:
  selector:
    matchLabels:
      app: meshcheck-cni
  updateStrategy:
    type: RollingUpdate
  template:
    metadata:
      labels:
        app: meshcheck-cni
        k8s-app: meshcheck-cni
    spec:
      hostNetwork: true
      priorityClassName: system-node-critical
      serviceAccountName: meshcheck-cni
      nodeSelector:
        kubernetes.io/os: linux
      tolerations:
      - operator: Exists
      containers:
      - name: meshcheck-cni
        image: %s
        imagePullPolicy: %s
        args: ["run", "--host-root=/host"]
        env:
        - name: NODE_NAME
          valueFrom:
            fieldRef:
              fieldPath: spec.nodeName
        - name: POD_SUBNET
          value: "{{ .PodSubnet }}"
        securityContext:
          privileged: true
        resources:
          requests:
            cpu: 10m
            memory: 20Mi
        volumeMounts:
        - name: cni-conf
          mountPath: /etc/cni/net.d
        - name: host
          mountPath: /host
      volumes:
      - name: cni-conf
        hostPath:
          path: /etc/cni/net.d
          type: DirectoryOrCreate
      - name: host
        hostPath:
          path: /
          type: Directory
`
