// Per-stage metrics as CloudWatch embedded metric format (Powertools): fences,
// evacuations by outcome, recovery duration. Emitted only inside Lambda; locally the
// same numbers are in the execution history and the reports.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

const inLambda = () => Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME);
let metrics: Metrics | null = null;

function instance(): Metrics | null {
  if (!inLambda()) return null;
  metrics ??= new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'freezer-dr',
    serviceName: 'freezer-dr',
  });
  return metrics;
}

export function countMetric(name: string, value = 1): void {
  instance()?.addMetric(name, MetricUnit.Count, value);
}

export function secondsMetric(name: string, seconds: number): void {
  instance()?.addMetric(name, MetricUnit.Seconds, seconds);
}

/** Flushes what a handler recorded (one EMF line on stdout). */
export function publishMetrics(): void {
  const m = instance();
  if (m?.hasStoredMetrics()) m.publishStoredMetrics();
}
