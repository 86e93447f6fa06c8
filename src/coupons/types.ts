/**
 * What the coupon summary reads, whatever the source: a sale (a CF-e SAT `CFe`, an NFC-e, a POS export row or
 * rows) or a cancellation (a `CFeCanc`, an NFC-e event 110111/110112, a POS row marked cancelled), each named by
 * the 44-character access key of the sale. Money is exact: scaled BigInts at 2 decimals (cents).
 */
import type { NfeFindingCode } from '../nfe/findings.js';
import type { VerifyCode } from '../nfe/verify.js';

/** One item line of a sale, as the summary groups it. Amounts in cents. */
export interface CouponItem {
  /** CST (regime normal) or CSOSN (Simples Nacional) of the item's ICMS; '' when none. */
  readonly cst: string;
  readonly cfop: string;
  /** ICMS rate as written, normalised to at least 2 decimals (`18.00`); '' when the item has none. */
  readonly rate: string;
  /** vProd: quantity × unit price. */
  readonly gross: bigint;
  /** Discounts of the item (vDesc, plus a CF-e's apportioned subtotal discount vRatDesc). */
  readonly discount: bigint;
  readonly icmsBase: bigint;
  readonly icmsValue: bigint;
  readonly pis: bigint;
  readonly cofins: bigint;
}

export type CouponModel = '59' | '65';

export interface CouponSale {
  readonly kind: 'sale';
  readonly key: string;
  readonly source: string;
  readonly model: CouponModel;
  /** Emission day, YYYY-MM-DD. */
  readonly day: string;
  /** SAT serial number (CF-e) or NFC-e series. */
  readonly equipment: string;
  /** Emitter CNPJ. */
  readonly emitter: string;
  readonly items: readonly CouponItem[];
  /** The document itself says it is cancelled (an nfeProc with its cancellation event appended). */
  readonly cancelledInDocument?: boolean;
}

export interface CouponCancellation {
  readonly kind: 'cancellation';
  /** The key of the cancelled sale. */
  readonly key: string;
  readonly source: string;
}

export type CouponEvent = CouponSale | CouponCancellation;

export type CouponFindingCode =
  | NfeFindingCode
  | VerifyCode
  | 'COUPON_DUPLICATE'
  | 'COUPON_CANCEL_DUPLICATE'
  | 'COUPON_CANCEL_ORPHAN'
  | 'COUPON_NOT_A_COUPON'
  | 'COUPON_CSV_ROW';

/** A finding about one coupon (or one CSV row, or one document that could not be read). Never stops the run. */
export interface CouponFinding {
  readonly code: CouponFindingCode;
  readonly severity: 'error' | 'warning';
  /** `path`, `archive.zip!entry.xml`, `-#3`, or `export.csv:12` (a CSV line). */
  readonly source: string;
  /** The coupon's key, when known. */
  readonly key?: string;
  readonly message: string;
}

/** One line for stderr: `source: [key: ]message [CODE]`. */
export function formatCouponFinding(f: CouponFinding): string {
  return `${f.source}:${f.key ? ` ${f.key}:` : ''}${f.severity === 'warning' ? ' warning:' : ''} ${f.message} [${f.code}]`;
}
