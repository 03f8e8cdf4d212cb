// Exact decimal arithmetic on strings for money: BigInt scaled integers, never floats.

const scale = 4;
const factor = 10n ** BigInt(scale);

function toScaled(value: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) throw new Error(`not a decimal: ${value}`);
  const [, sign, whole, fraction = ''] = match;
  const digits = BigInt(whole) * factor + BigInt((fraction + '0'.repeat(scale)).slice(0, scale) || '0');
  return sign === '-' ? -digits : digits;
}

function fromScaled(value: bigint, places: number): string {
  const step = 10n ** BigInt(scale - places);
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const rounded = (magnitude + step / 2n) / step; // half away from zero
  const unit = 10n ** BigInt(places);
  const text = places > 0 ? `${rounded / unit}.${(rounded % unit).toString().padStart(places, '0')}` : `${rounded}`;
  return negative && rounded !== 0n ? `-${text}` : text;
}

/** a x b rounded to `places` decimals (money: 2). */
export function multiplyDecimal(a: string, b: string, places = 2): string {
  return fromScaled((toScaled(a) * toScaled(b)) / factor, places);
}

export function addDecimal(a: string, b: string, places = 2): string {
  return fromScaled(toScaled(a) + toScaled(b), places);
}

export function negateDecimal(a: string): string {
  return fromScaled(-toScaled(a), scale).replace(/\.?0+$/, '') || '0';
}

export function isNegativeDecimal(a: string): boolean {
  return toScaled(a) < 0n;
}
