{{- define "controlplane.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "controlplane.labels" -}}
app.kubernetes.io/part-of: {{ .Chart.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "controlplane.secretName" -}}
{{- default (printf "%s-connections" (include "controlplane.fullname" .)) .Values.connections.existingSecret -}}
{{- end -}}

{{- define "controlplane.image" -}}
{{- $root := index . 0 -}}{{- $svc := index . 1 -}}
{{- $tag := default $root.Chart.AppVersion $root.Values.image.tag -}}
{{- if $root.Values.image.registry -}}
{{- printf "%s/%s:%s" $root.Values.image.registry $svc.image $tag -}}
{{- else -}}
{{- printf "%s:%s" $svc.image $tag -}}
{{- end -}}
{{- end -}}
