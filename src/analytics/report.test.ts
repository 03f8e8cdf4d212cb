import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parametersInWords, pickParameters } from './report.service.ts';

const keys = ['r', 'alpha', 'a', 'b', 'logLikelihood', 'converged', 'sampled', 'sampleCustomers'];

test('kept report model prints a fit without a sample as its parameters, never sampleCustomers=undefined', () => {
  const fit = { r: 0.2431234567, alpha: 4.41, a: 0.8, b: 2.4, logLikelihood: -1234.5, converged: true, sampled: false };
  const line = parametersInWords(pickParameters(fit as unknown as Record<string, number>, keys));
  assert.equal(line, 'r=0.243123 alpha=4.41 a=0.8 b=2.4 logLikelihood=-1234.5 converged=true sampled=false');
  assert.doesNotMatch(line, /undefined/);
});

test('a sampled fit prints how many customers its sample held', () => {
  const fit = {
    r: 0.5,
    alpha: 2,
    a: 1,
    b: 3,
    logLikelihood: -10,
    converged: true,
    sampled: true,
    sampleCustomers: 5000,
  };
  assert.equal(
    parametersInWords(pickParameters(fit as unknown as Record<string, number>, keys)),
    'r=0.5 alpha=2 a=1 b=3 logLikelihood=-10 converged=true sampled=true sampleCustomers=5000',
  );
  assert.equal(parametersInWords(pickParameters(null, keys)), 'not fitted');
});
