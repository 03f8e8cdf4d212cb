export { changeRule, refreshRules, rules } from './rule.service.ts';
export { distilRules, ruleFits, type CustomerType, type RetentionRule } from './rule.ts';
