package apiserver

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash/fnv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Labels and annotations the Deployment controller and Istio's sidecar
// injector set on pods.
const (
	LabelPodTemplateHash   = "pod-template-hash"
	LabelTLSMode           = "security.istio.io/tlsMode"
	LabelCanonicalName     = "service.istio.io/canonical-name"
	LabelCanonicalRevision = "service.istio.io/canonical-revision"
	LabelInjection         = "istio-injection"
	LabelRevision          = "istio.io/rev"
	InjectLabel            = "sidecar.istio.io/inject" // on a pod (label or annotation)
	AnnotationSidecar      = "sidecar.istio.io/status"
)

// Injected reports whether Istio's sidecar injector (default install) would
// inject a pod with these labels and annotations in a namespace with
// nsLabels: a pod's sidecar.istio.io/inject=false and a namespace's
// istio-injection=disabled opt out; a namespace's istio-injection=enabled or
// istio.io/rev, or the pod's sidecar.istio.io/inject=true label opt in.
func Injected(nsLabels, podLabels, podAnnotations map[string]string) bool {
	if podLabels[InjectLabel] == "false" || podAnnotations[InjectLabel] == "false" {
		return false
	}
	switch {
	case nsLabels[LabelInjection] == "disabled":
		return false
	case nsLabels[LabelInjection] == "enabled", nsLabels[LabelRevision] != "":
		return true
	}
	return podLabels[InjectLabel] == "true"
}

// IsMeshed reports whether a pod that ExpandDeployment made carries a sidecar.
func IsMeshed(pod *corev1.Pod) bool { return pod.Annotations[AnnotationSidecar] != "" }

// TemplateHash is the pod-template-hash of a Deployment's template: stable
// for the same template, different when the template changes.
func TemplateHash(t *corev1.PodTemplateSpec) string {
	b, _ := json.Marshal(t) // a PodTemplateSpec always marshals
	h := fnv.New32a()
	h.Write(b)
	return hashString(fmt.Sprint(h.Sum32()), 10)
}

// uid derives a stable UID from an object's identity.
func uid(kind, namespace, name string) types.UID {
	s := sha256.Sum256([]byte(kind + "/" + namespace + "/" + name))
	return types.UID(fmt.Sprintf("%x-%x-%x-%x-%x", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16]))
}

// ExpandDeployment returns the pods the Deployment and ReplicaSet controllers
// would create for a defaulted Deployment (see DefaultDeployment), without
// IPs: names <deployment>-<hash>-<suffix>, deterministic.
func ExpandDeployment(d *appsv1.Deployment, ns *corev1.Namespace, nodeName string) []*corev1.Pod {
	hash := TemplateHash(&d.Spec.Template)
	rs := d.Name + "-" + hash
	var nsLabels map[string]string
	if ns != nil {
		nsLabels = ns.Labels
	}
	tmpl := d.Spec.Template
	inject := Injected(nsLabels, tmpl.Labels, tmpl.Annotations)
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	seen := map[string]bool{}
	pods := make([]*corev1.Pod, 0, replicas)
	for i := int32(0); i < replicas; i++ {
		var name string
		for try := 0; ; try++ {
			name = rs + "-" + hashString(fmt.Sprintf("%s/%d/%d", rs, i, try), 5)
			if !seen[name] {
				break
			}
		}
		seen[name] = true
		pod := &corev1.Pod{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Namespace:   d.Namespace,
				UID:         uid("Pod", d.Namespace, name),
				Labels:      map[string]string{LabelPodTemplateHash: hash},
				Annotations: map[string]string{},
				OwnerReferences: []metav1.OwnerReference{{
					APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs, UID: uid("ReplicaSet", d.Namespace, rs),
					Controller: ptr(true), BlockOwnerDeletion: ptr(true),
				}},
			},
			Spec: *tmpl.Spec.DeepCopy(),
		}
		for k, v := range tmpl.Labels {
			pod.Labels[k] = v
		}
		for k, v := range tmpl.Annotations {
			pod.Annotations[k] = v
		}
		pod.Spec.NodeName = nodeName
		pod.Spec.DeprecatedServiceAccount = pod.Spec.ServiceAccountName
		if inject {
			pod.Labels[LabelTLSMode] = "istio"
			if _, ok := pod.Labels[LabelCanonicalName]; !ok {
				pod.Labels[LabelCanonicalName] = firstOf(pod.Labels, d.Name, "app.kubernetes.io/name", "app")
			}
			if _, ok := pod.Labels[LabelCanonicalRevision]; !ok {
				pod.Labels[LabelCanonicalRevision] = firstOf(pod.Labels, "latest", "app.kubernetes.io/version", "version")
			}
			pod.Annotations[AnnotationSidecar] = `{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}`
		}
		if len(pod.Annotations) == 0 {
			pod.Annotations = nil
		}
		pod.Status = runningStatus(&pod.Spec)
		pods = append(pods, pod)
	}
	return pods
}

func firstOf(m map[string]string, fallback string, keys ...string) string {
	for _, k := range keys {
		if v := m[k]; v != "" {
			return v
		}
	}
	return fallback
}

func ptr[T any](v T) *T { return &v }

func runningStatus(spec *corev1.PodSpec) corev1.PodStatus {
	st := corev1.PodStatus{Phase: corev1.PodRunning, QOSClass: corev1.PodQOSBestEffort}
	for _, t := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodScheduled} {
		st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue})
	}
	for _, c := range spec.InitContainers {
		st.InitContainerStatuses = append(st.InitContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, Ready: true,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}},
		})
	}
	for _, c := range spec.Containers {
		st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, Ready: true, Started: ptr(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
		})
	}
	return st
}

// setPodIP records the pod's IP in its status.
func setPodIP(pod *corev1.Pod, ip string, hostIP string) {
	pod.Status.PodIP = ip
	pod.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	if hostIP != "" {
		pod.Status.HostIP = hostIP
		pod.Status.HostIPs = []corev1.HostIP{{IP: hostIP}}
	}
}

// PodReady reports the pod's Ready condition.
func PodReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
