{{- define "qbeast-controller.labels" -}}
app.kubernetes.io/name: qbeast-controller
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | replace "+" "_" | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "qbeast-controller.selector" -}}
app.kubernetes.io/name: qbeast-controller
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
The image: image.repository, its registry (the first path component, when it has a '.' or ':' or is
localhost) replaced by global.imageRegistry when that is set; tagged image.tag, else the chart's
appVersion with '+' spelled '_' (OCI tags cannot carry '+'; Helm spells it the same way); or pinned
by image.digest (repository@sha256:…) when that is set.
*/}}
{{- define "qbeast-controller.image" -}}
{{- $repository := .Values.image.repository -}}
{{- $mirror := trimSuffix "/" ((.Values.global).imageRegistry | default "") -}}
{{- if $mirror -}}
{{- $parts := splitList "/" $repository -}}
{{- $first := first $parts -}}
{{- if or (contains "." $first) (contains ":" $first) (eq $first "localhost") -}}
{{- $repository = rest $parts | join "/" -}}
{{- end -}}
{{- $repository = printf "%s/%s" $mirror $repository -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (.Values.image.tag | default (.Chart.AppVersion | replace "+" "_")) -}}
{{- end -}}
{{- end -}}
