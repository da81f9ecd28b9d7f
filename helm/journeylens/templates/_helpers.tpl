{{/*
Names are capped at 63 characters because Kubernetes names and label values are DNS labels.
*/}}
{{- define "journeylens.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name, plus the chart name unless the release name
already contains it. fullnameOverride replaces both.
*/}}
{{- define "journeylens.fullname" -}}
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

{{- define "journeylens.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "journeylens.selectorLabels" -}}
app.kubernetes.io/name: {{ include "journeylens.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "journeylens.labels" -}}
helm.sh/chart: {{ include "journeylens.chart" . }}
{{ include "journeylens.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: processor
{{- end }}

{{- define "journeylens.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "journeylens.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "journeylens.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
The replica ceiling: a consumer group member beyond the partition count owns no partition and
sits idle, so replicas (and the autoscaler's maximum) must not exceed kafka.partitions.
*/}}
{{- define "journeylens.validate" -}}
{{- $partitions := int .Values.kafka.partitions }}
{{- if and (not .Values.autoscaling.enabled) (gt (int .Values.replicaCount) $partitions) }}
{{- fail (printf "replicaCount (%d) must be <= kafka.partitions (%d): extra consumer group members get no partition and sit idle. Lower replicaCount or raise kafka.partitions after adding partitions to %s." (int .Values.replicaCount) $partitions .Values.kafka.topics.input) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.maxReplicas) $partitions) }}
{{- fail (printf "autoscaling.maxReplicas (%d) must be <= kafka.partitions (%d): extra consumer group members get no partition and sit idle." (int .Values.autoscaling.maxReplicas) $partitions) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (regexMatch "[,/]" .Values.kafka.topics.input) }}
{{- fail (printf "autoscaling.enabled needs a single input topic, but kafka.topics.input is %q: KEDA's Kafka trigger measures the lag of one topic. Disable autoscaling or consume one topic." .Values.kafka.topics.input) }}
{{- end }}
{{- if and .Values.kafka.sasl.enabled (not .Values.kafka.sasl.existingSecret) }}
{{- fail "kafka.sasl.existingSecret is required when kafka.sasl.enabled=true: create a Secret holding the SASL password (key kafka.sasl.passwordKey) and name it here." }}
{{- end }}
{{- if and .Values.kafka.sasl.enabled (not .Values.kafka.sasl.username) }}
{{- fail "kafka.sasl.username is required when kafka.sasl.enabled=true." }}
{{- end }}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.clientAuth (not .Values.kafka.tls.existingSecret) }}
{{- fail "kafka.tls.existingSecret is required when kafka.tls.clientAuth=true: create a Secret holding the client certificate and key and name it here." }}
{{- end }}
{{- if hasKey .Values.config "fromBeginning" }}
{{- fail "config.fromBeginning is set, but the chart sets JOURNEYLENS_FROM_BEGINNING from kafka.startFrom (env wins over the config file, and KEDA's offsetResetPolicy follows it): set kafka.startFrom to earliest or latest instead." }}
{{- end }}
{{- if and .Values.console.enabled (not .Values.console.existingSecret) }}
{{- fail "console.existingSecret is required when console.enabled=true: the console listens beyond loopback in a pod, so it needs a bearer token of at least 16 characters; create a Secret holding it (key console.tokenKey) and name it here." }}
{{- end }}
{{- if and .Values.console.enabled (or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1)) }}
{{- fail "console.enabled serves the console beside the processor, and each replica's console sees only the partitions that replica owns; with replicaCount > 1 or autoscaling, run `journeylens ui` (docs/console.md) as its own Deployment instead, which reads the output topics." }}
{{- end }}
{{- if and .Values.console.ingress.enabled (not .Values.console.enabled) }}
{{- fail "console.ingress.enabled needs console.enabled=true: the Ingress routes to the console's Service port." }}
{{- end }}
{{- if and .Values.console.enabled (eq (int .Values.console.port) (int .Values.metrics.port)) }}
{{- fail (printf "console.port (%d) must differ from metrics.port: they are two servers." (int .Values.console.port)) }}
{{- end }}
{{- if and .Values.privacy.consent (hasKey (.Values.config.ingestion | default (dict)) "consent") }}
{{- fail "privacy.consent and config.ingestion.consent both set the consent rule: keep one of them (privacy.consent is written to the config file as ingestion.consent)." }}
{{- end }}
{{- if and .Values.webhook.url (not .Values.webhook.existingSecret) }}
{{- fail "webhook.existingSecret is required when webhook.url is set: the CRM webhook signs every request with the HMAC secret from that Secret (key webhook.secretKey)." }}
{{- end }}
{{- end }}

{{/*
The config file's contents: `config`, with privacy.consent as ingestion.consent.
*/}}
{{- define "journeylens.configFile" -}}
{{- $config := deepCopy .Values.config }}
{{- if .Values.privacy.consent }}
{{- $ingestion := get $config "ingestion" | default (dict) }}
{{- $_ := set $ingestion "consent" .Values.privacy.consent }}
{{- $_ := set $config "ingestion" $ingestion }}
{{- end }}
{{- toPrettyJson $config }}
{{- end }}
