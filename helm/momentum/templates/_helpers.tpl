{{/*
The chart name, or nameOverride.
*/}}
{{- define "momentum.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's resources: fullnameOverride, or the release
name when it already contains the chart name, or "<release>-<chart>".
Truncated to 63 characters (the DNS label limit).
*/}}
{{- define "momentum.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
"<chart>-<version>" for the helm.sh/chart label.
*/}}
{{- define "momentum.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every resource.
*/}}
{{- define "momentum.labels" -}}
helm.sh/chart: {{ include "momentum.chart" . }}
{{ include "momentum.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: momentum
{{- end }}

{{/*
Labels that select the release's pods; never change them (selectors are immutable).
*/}}
{{- define "momentum.selectorLabels" -}}
app.kubernetes.io/name: {{ include "momentum.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The ServiceAccount the pods run as.
*/}}
{{- define "momentum.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "momentum.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The container image: repository@digest, or repository:tag (tag defaults to appVersion).
*/}}
{{- define "momentum.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}
{{- end }}

{{/*
True ("true") when the database is SQLite.
*/}}
{{- define "momentum.sqlite" -}}
{{- if eq .Values.database.type "sqlite" }}true{{ end }}
{{- end }}

{{/*
The number of pods: replicaCount, or 1 with SQLite and 2 with PostgreSQL.
*/}}
{{- define "momentum.replicas" -}}
{{- if kindIs "invalid" .Values.replicaCount }}
{{- if include "momentum.sqlite" . }}1{{ else }}2{{ end }}
{{- else }}
{{- int .Values.replicaCount }}
{{- end }}
{{- end }}

{{/*
The Secret holding MOMENTUM_SECRET_KEY and the Slack values.
*/}}
{{- define "momentum.secretName" -}}
{{- default (include "momentum.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/*
True when the chart creates the Secret holding the database URL (PostgreSQL
with database.url and no database.existingSecret).
*/}}
{{- define "momentum.createsDatabaseSecret" -}}
{{- if and (not (include "momentum.sqlite" .)) (not .Values.database.existingSecret) .Values.database.url }}true{{ end }}
{{- end }}

{{/*
The Secret and key holding the PostgreSQL URL.
*/}}
{{- define "momentum.databaseSecretName" -}}
{{- default (printf "%s-database" (include "momentum.fullname" .)) .Values.database.existingSecret }}
{{- end }}
{{- define "momentum.databaseSecretKey" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecretKey }}
{{- else -}}
MOMENTUM_DATABASE_URL
{{- end }}
{{- end }}

{{/*
The Secret holding the program files, empty when none are mounted.
*/}}
{{- define "momentum.programsSecretName" -}}
{{- if .Values.programs.existingSecret }}
{{- .Values.programs.existingSecret }}
{{- else if .Values.programs.files }}
{{- printf "%s-programs" (include "momentum.fullname" .) }}
{{- end }}
{{- end }}

{{/*
Refuses values that cannot work. Included by the Deployment.
*/}}
{{- define "momentum.validate" -}}
{{- $type := .Values.database.type }}
{{- if not (has $type (list "sqlite" "postgres")) }}
{{- fail (printf "database.type must be \"sqlite\" or \"postgres\", not %q" (toString $type)) }}
{{- end }}
{{- $replicas := int (include "momentum.replicas" .) }}
{{- if and (eq $type "sqlite") (gt $replicas 1) }}
{{- fail (printf "replicaCount is %d, but SQLite allows exactly 1 replica (one writer, one ReadWriteOnce volume). Use database.type=postgres to run several replicas." $replicas) }}
{{- end }}
{{- if eq $type "postgres" }}
{{- if and (not .Values.database.existingSecret) (not .Values.database.url) }}
{{- fail "database.type=postgres needs the database URL: set database.existingSecret (a Secret holding the URL under database.existingSecretKey) or database.url" }}
{{- end }}
{{- if and .Values.database.url (not .Values.database.existingSecret) }}
{{- if not (regexMatch "^postgres(ql)?://" .Values.database.url) }}
{{- fail "database.url must start with postgres:// or postgresql://" }}
{{- end }}
{{- end }}
{{- end }}
{{- if not .Values.secrets.existingSecret }}
{{- if not .Values.secrets.secretKey }}
{{- fail "MOMENTUM_SECRET_KEY is required: set secrets.secretKey (make one with `head -c 32 /dev/urandom | base64` and keep it safe) or secrets.existingSecret" }}
{{- end }}
{{- if ne (len (b64dec .Values.secrets.secretKey)) 32 }}
{{- fail "secrets.secretKey must be 32 bytes in base64 (44 characters ending in \"=\"): make one with `head -c 32 /dev/urandom | base64`" }}
{{- end }}
{{- end }}
{{- end }}
