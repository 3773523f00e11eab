package apiserver

import (
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// ErrInvalid wraps every validation error, as the API server would reject the
// object.
var ErrInvalid = errors.New("invalid object")

// FieldError names the object and the field an error is about.
type FieldError struct {
	Kind      string
	Namespace string
	Name      string
	Field     string // such as spec.ports[1].name
	Err       error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s %s/%s: %s: %v", e.Kind, e.Namespace, e.Name, e.Field, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

func invalid(kind string, m metav1.Object, field, format string, args ...any) error {
	return &FieldError{Kind: kind, Namespace: m.GetNamespace(), Name: m.GetName(), Field: field,
		Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)}
}

// DefaultService sets what the API server defaults on a Service, except the
// ClusterIP (a Cluster allocates it), and validates what pilot relies on:
// port numbers, names (required and unique when there are several ports),
// targetPorts.
func DefaultService(svc *corev1.Service) error {
	if svc.Name == "" || len(validation.IsDNS1035Label(svc.Name)) > 0 {
		return invalid("Service", svc, "metadata.name", "%q is not a DNS-1035 label", svc.Name)
	}
	s := &svc.Spec
	if s.Type == "" {
		s.Type = corev1.ServiceTypeClusterIP
	}
	if s.SessionAffinity == "" {
		s.SessionAffinity = corev1.ServiceAffinityNone
	}
	if s.InternalTrafficPolicy == nil {
		p := corev1.ServiceInternalTrafficPolicyCluster
		s.InternalTrafficPolicy = &p
	}
	if (s.Type == corev1.ServiceTypeNodePort || s.Type == corev1.ServiceTypeLoadBalancer) && s.ExternalTrafficPolicy == "" {
		s.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if s.Type == corev1.ServiceTypeExternalName {
		return invalid("Service", svc, "spec.type", "ExternalName services are not supported")
	}
	if len(s.Ports) == 0 {
		return invalid("Service", svc, "spec.ports", "a Service needs at least one port")
	}
	names, numbers := map[string]bool{}, map[string]bool{}
	for i := range s.Ports {
		p := &s.Ports[i]
		field := fmt.Sprintf("spec.ports[%d]", i)
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.Port < 1 || p.Port > 65535 {
			return invalid("Service", svc, field+".port", "%d is not a port number", p.Port)
		}
		if len(s.Ports) > 1 && p.Name == "" {
			return invalid("Service", svc, field+".name", "required when a Service has several ports")
		}
		if p.Name != "" && len(validation.IsDNS1123Label(p.Name)) > 0 {
			return invalid("Service", svc, field+".name", "%q is not a DNS label", p.Name)
		}
		if names[p.Name] {
			return invalid("Service", svc, field+".name", "%q is used twice", p.Name)
		}
		names[p.Name] = true
		key := fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		if numbers[key] {
			return invalid("Service", svc, field+".port", "%s is used twice", key)
		}
		numbers[key] = true
		switch {
		case p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal == 0,
			p.TargetPort.Type == intstr.String && p.TargetPort.StrVal == "":
			p.TargetPort = intstr.FromInt32(p.Port)
		case p.TargetPort.Type == intstr.Int:
			if p.TargetPort.IntVal < 1 || p.TargetPort.IntVal > 65535 {
				return invalid("Service", svc, field+".targetPort", "%d is not a port number", p.TargetPort.IntVal)
			}
		default:
			if errs := validation.IsValidPortName(p.TargetPort.StrVal); len(errs) > 0 {
				return invalid("Service", svc, field+".targetPort", "%q: %s", p.TargetPort.StrVal, strings.Join(errs, "; "))
			}
		}
	}
	return nil
}

// DefaultDeployment sets what the API server defaults on a Deployment and its
// pod template, and validates the selector against the template's labels.
func DefaultDeployment(d *appsv1.Deployment) error {
	if d.Name == "" || len(validation.IsDNS1123Subdomain(d.Name)) > 0 {
		return invalid("Deployment", d, "metadata.name", "%q is not a DNS subdomain", d.Name)
	}
	s := &d.Spec
	if s.Replicas == nil {
		one := int32(1)
		s.Replicas = &one
	}
	if *s.Replicas < 0 {
		return invalid("Deployment", d, "spec.replicas", "%d is negative", *s.Replicas)
	}
	if s.Selector == nil || (len(s.Selector.MatchLabels) == 0 && len(s.Selector.MatchExpressions) == 0) {
		return invalid("Deployment", d, "spec.selector", "required")
	}
	sel, err := metav1.LabelSelectorAsSelector(s.Selector)
	if err != nil {
		return invalid("Deployment", d, "spec.selector", "%v", err)
	}
	if !sel.Matches(labels.Set(s.Template.Labels)) {
		return invalid("Deployment", d, "spec.template.metadata.labels", "%v do not match the selector %s", s.Template.Labels, sel)
	}
	if s.Strategy.Type == "" {
		s.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if s.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType && s.Strategy.RollingUpdate == nil {
		q := intstr.FromString("25%")
		s.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: &q, MaxSurge: &q}
	}
	if s.RevisionHistoryLimit == nil {
		v := int32(10)
		s.RevisionHistoryLimit = &v
	}
	if s.ProgressDeadlineSeconds == nil {
		v := int32(600)
		s.ProgressDeadlineSeconds = &v
	}
	return defaultPodSpec(d, &s.Template.Spec)
}

func defaultPodSpec(owner metav1.Object, p *corev1.PodSpec) error {
	if len(p.Containers) == 0 {
		return invalid("Deployment", owner, "spec.template.spec.containers", "a pod needs at least one container")
	}
	if p.RestartPolicy == "" {
		p.RestartPolicy = corev1.RestartPolicyAlways
	}
	if p.DNSPolicy == "" {
		p.DNSPolicy = corev1.DNSClusterFirst
	}
	if p.SchedulerName == "" {
		p.SchedulerName = corev1.DefaultSchedulerName
	}
	if p.TerminationGracePeriodSeconds == nil {
		v := int64(corev1.DefaultTerminationGracePeriodSeconds)
		p.TerminationGracePeriodSeconds = &v
	}
	if p.SecurityContext == nil {
		p.SecurityContext = &corev1.PodSecurityContext{}
	}
	if p.ServiceAccountName == "" {
		p.ServiceAccountName = "default"
	}
	names := map[string]bool{}
	for k, cs := range [][]corev1.Container{p.InitContainers, p.Containers} {
		for i := range cs {
			c := &cs[i]
			field := fmt.Sprintf("spec.template.spec.%s[%d]", []string{"initContainers", "containers"}[k], i)
			if c.Name == "" || len(validation.IsDNS1123Label(c.Name)) > 0 {
				return invalid("Deployment", owner, field+".name", "%q is not a DNS label", c.Name)
			}
			if names[c.Name] {
				return invalid("Deployment", owner, field+".name", "%q is used twice", c.Name)
			}
			names[c.Name] = true
			if c.TerminationMessagePath == "" {
				c.TerminationMessagePath = corev1.TerminationMessagePathDefault
			}
			if c.TerminationMessagePolicy == "" {
				c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
			}
			if c.ImagePullPolicy == "" {
				c.ImagePullPolicy = corev1.PullIfNotPresent
				if c.Image == "" || strings.HasSuffix(c.Image, ":latest") || !strings.Contains(c.Image[strings.LastIndex(c.Image, "/")+1:], ":") {
					c.ImagePullPolicy = corev1.PullAlways
				}
			}
			portNames := map[string]bool{}
			for j := range c.Ports {
				cp := &c.Ports[j]
				if cp.Protocol == "" {
					cp.Protocol = corev1.ProtocolTCP
				}
				if cp.ContainerPort < 1 || cp.ContainerPort > 65535 {
					return invalid("Deployment", owner, fmt.Sprintf("%s.ports[%d].containerPort", field, j), "%d is not a port number", cp.ContainerPort)
				}
				if cp.Name != "" {
					if errs := validation.IsValidPortName(cp.Name); len(errs) > 0 {
						return invalid("Deployment", owner, fmt.Sprintf("%s.ports[%d].name", field, j), "%q: %s", cp.Name, strings.Join(errs, "; "))
					}
					if portNames[cp.Name] {
						return invalid("Deployment", owner, fmt.Sprintf("%s.ports[%d].name", field, j), "%q is used twice", cp.Name)
					}
					portNames[cp.Name] = true
				}
			}
		}
	}
	return nil
}
