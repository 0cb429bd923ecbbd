{{- define "qbeast-controller.labels" -}}
app.kubernetes.io/name: qbeast-controller
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "qbeast-controller.selector" -}}
app.kubernetes.io/name: qbeast-controller
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
