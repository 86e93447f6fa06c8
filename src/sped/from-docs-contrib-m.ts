/**
 * Block M of the EFD-Contribuições from documents: the contribution of the period (M200/M205/M210 for PIS,
 * M600/M605/M610 for COFINS) from the revenue of the exits booked in block C, and in the non-cumulative regime
 * the credits (M100/M105, M500/M505) from the entries with a credit CST (50–56), used against the contribution
 * up to its value. Rules and codes: formats/sped/from-docs/contribuicoes.json. Exact: every base is a sum of the
 * booked groups, every contribution and credit the base times the rate rounded to the cent (as the PVA computes).
 */
import { Decimal } from '../common/decimal.js';
import { money } from './from-docs-analytic.js';
import { percent, type PisCofinsGroup } from './from-docs-pis-cofins.js';
import type { RecordMaker } from './from-docs-records.js';
import { CONTRIB_RULES, type ContribRegime } from './from-docs-rules.js';

type Tax = 'pis' | 'cofins';
const TAXES: readonly Tax[] = ['pis', 'cofins'];

/** The period's sums of one tax ('.' decimals). */
export interface ContributionSummary {
  /** Σ M210 VL_REC_BRT: revenue of the taxed exits. */
  revenue: string;
  /** Σ VL_BC_CONT. */
  base: string;
  /** Σ VL_CONT_PER. */
  contribution: string;
  /** Σ M100 VL_CRED (non-cumulative). */
  credits: string;
  /** The part of the credits used against the contribution (VL_TOT_CRED_DESC). */
  creditsUsed: string;
  /** VL_TOT_CONT_REC: to pay. */
  due: string;
  /** Revenue of the exits with an untaxed CST (04–09): what M400/M800 would detail (not written). */
  untaxedRevenue: string;
}

interface Sum {
  rec: Decimal;
  bc: Decimal;
}

const add = (m: Map<string, Sum>, key: string, rec: Decimal, bc: Decimal): void => {
  const cur = m.get(key);
  if (cur) {
    cur.rec = cur.rec.add(rec);
    cur.bc = cur.bc.add(bc);
  } else m.set(key, { rec, bc });
};

const sorted = <T>(m: Map<string, T>): [string, T][] => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** The names of a tax's fields in M100/M500, M105/M505, M200/M600, M205/M605 and M210/M610. */
const NAMES = {
  pis: { credit: 'M100', creditDetail: 'M105', total: 'M200', byRevenue: 'M205', detail: 'M210', T: 'PIS', creditDiff: 'VL_CRED_DIF' },
  cofins: { credit: 'M500', creditDetail: 'M505', total: 'M600', byRevenue: 'M605', detail: 'M610', T: 'COFINS', creditDiff: 'VL_CRED_DIFER' },
} as const;

export class ContribApuration {
  /** Per tax: revenue by `code|rate`; credit bases by `rate|nature|cst`; untaxed revenue. */
  private readonly revenue = { pis: new Map<string, Sum>(), cofins: new Map<string, Sum>() };
  private readonly credits = { pis: new Map<string, Sum>(), cofins: new Map<string, Sum>() };
  private readonly untaxed = { pis: Decimal.ZERO, cofins: Decimal.ZERO };

  constructor(private readonly regime: ContribRegime) {}

  /** A booked group: of an exit (revenue) or an entry (credit, non-cumulative regime only). */
  add(g: PisCofinsGroup, exit: boolean): void {
    const rules = CONTRIB_RULES;
    for (const tax of TAXES) {
      const cst = tax === 'pis' ? g.cstPis : g.cstCofins;
      const rate = tax === 'pis' ? g.ratePis : g.rateCofins;
      const bc = tax === 'pis' ? g.bcPis : g.bcCofins;
      const rec = g.item.sub(g.desc);
      if (exit && rules.cst.taxed.includes(cst)) {
        const codes = rules.contributionCode[this.regime];
        const code = cst === '01' && rate.equals(Decimal.from(codes.basicRates[tax])) ? codes.basic : codes.other;
        add(this.revenue[tax], `${code}|${rate.format('.', 4)}`, rec, bc);
      } else if (exit && rules.cst.untaxed.includes(cst)) {
        this.untaxed[tax] = this.untaxed[tax].add(rec);
      } else if (!exit && this.regime === 'non-cumulative' && rules.cst.credit.includes(cst)) {
        add(this.credits[tax], `${rate.format('.', 4)}|${g.nature}|${cst}`, rec, bc);
      }
    }
  }

  /** The block M records in file order, and the sums per tax. */
  records(records: RecordMaker): { lines: string[][]; summary: Record<Tax, ContributionSummary> } {
    const lines: string[][] = [];
    const summary = {} as Record<Tax, ContributionSummary>;
    for (const tax of TAXES) {
      const n = NAMES[tax];
      // the contribution: one M210/M610 per code and rate
      const details: string[][] = [];
      let contribution = Decimal.ZERO;
      let revenue = Decimal.ZERO;
      let base = Decimal.ZERO;
      for (const [key, s] of sorted(this.revenue[tax])) {
        const [code, rateText] = key.split('|') as [string, string];
        const rate = Decimal.from(rateText);
        const value = percent(s.bc, rate);
        contribution = contribution.add(value);
        revenue = revenue.add(s.rec);
        base = base.add(s.bc);
        details.push(records.make(n.detail, {
          COD_CONT: code, VL_REC_BRT: money(s.rec), VL_BC_CONT: money(s.bc), [`VL_AJUS_ACRES_BC_${n.T}`]: '0,00', [`VL_AJUS_REDUC_BC_${n.T}`]: '0,00',
          VL_BC_CONT_AJUS: money(s.bc), [`ALIQ_${n.T}`]: rate.format(',', 4), VL_CONT_APUR: money(value), VL_AJUS_ACRES: '0,00', VL_AJUS_REDUC: '0,00',
          VL_CONT_PER: money(value),
        }));
      }
      // the credits (non-cumulative): one M100/M500 per rate, with an M105/M505 per nature and CST; used up to the contribution
      let credits = Decimal.ZERO;
      let used = Decimal.ZERO;
      const byRate = new Map<string, [string, Sum][]>();
      for (const [key, s] of sorted(this.credits[tax])) {
        const rate = key.slice(0, key.indexOf('|'));
        byRate.set(rate, [...(byRate.get(rate) ?? []), [key, s]]);
      }
      for (const [rateText, parts] of sorted(byRate)) {
        const rate = Decimal.from(rateText);
        const bc = parts.reduce((a, [, s]) => a.add(s.bc), Decimal.ZERO);
        const credit = percent(bc, rate);
        const room = contribution.sub(used);
        const take = credit.compare(room) <= 0 ? credit : room;
        credits = credits.add(credit);
        used = used.add(take);
        lines.push(records.make(n.credit, {
          COD_CRED: CONTRIB_RULES.creditRates.creditCode, IND_CRED_ORI: '0', [`VL_BC_${n.T}`]: money(bc), [`ALIQ_${n.T}`]: rate.format(',', 4), VL_CRED: money(credit),
          VL_AJUS_ACRES: '0,00', VL_AJUS_REDUC: '0,00', [n.creditDiff]: '0,00', VL_CRED_DISP: money(credit), IND_DESC_CRED: take.equals(credit) ? '0' : '1',
          VL_CRED_DESC: money(take), SLD_CRED: money(credit.sub(take)),
        }));
        for (const [key, s] of parts) {
          const [, nature, cst] = key.split('|') as [string, string, string];
          lines.push(records.make(n.creditDetail, { NAT_BC_CRED: nature, [`CST_${n.T}`]: cst, [`VL_BC_${n.T}_TOT`]: money(s.bc), [`VL_BC_${n.T}`]: money(s.bc) }));
        }
      }
      // the consolidation: non-cumulative or cumulative by the regime
      const nc = this.regime === 'non-cumulative';
      const ncDue = nc ? contribution.sub(used) : Decimal.ZERO;
      const cumDue = nc ? Decimal.ZERO : contribution;
      const zero = '0,00';
      lines.push(records.make(n.total, {
        VL_TOT_CONT_NC_PER: money(nc ? contribution : Decimal.ZERO), VL_TOT_CRED_DESC: money(used), VL_TOT_CRED_DESC_ANT: zero, VL_TOT_CONT_NC_DEV: money(ncDue),
        VL_RET_NC: zero, VL_OUT_DED_NC: zero, VL_CONT_NC_REC: money(ncDue), VL_TOT_CONT_CUM_PER: money(cumDue), VL_RET_CUM: zero, VL_OUT_DED_CUM: zero,
        VL_CONT_CUM_REC: money(cumDue), VL_TOT_CONT_REC: money(ncDue.add(cumDue)),
      }));
      const due = ncDue.add(cumDue);
      if (due.compare(Decimal.ZERO) > 0) {
        const r = CONTRIB_RULES.revenueCodes[this.regime];
        lines.push(records.make(n.byRevenue, { NUM_CAMPO: r.field, COD_REC: r[tax], VL_DEBITO: money(due) }));
      }
      lines.push(...details);
      summary[tax] = {
        revenue: revenue.format('.', 2), base: base.format('.', 2), contribution: contribution.format('.', 2), credits: credits.format('.', 2),
        creditsUsed: used.format('.', 2), due: due.format('.', 2), untaxedRevenue: this.untaxed[tax].format('.', 2),
      };
    }
    return { lines, summary };
  }
}
