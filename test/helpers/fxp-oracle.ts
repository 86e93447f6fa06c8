/**
 * The oracle of tree.ts: fast-xml-parser 5 with the options the typed parse used before it built its model from
 * the tokenizer's tokens (attributes kept with an `@` prefix, `#text`, every value a string, values trimmed,
 * the five predefined entities and character references only, element prefixes dropped, arrays where the NF-e
 * or CF-e schema says an element repeats). tree.ts must give the same model, key for key and in the same order.
 */
import { XMLParser } from 'fast-xml-parser';
import { isRepeatingPath } from '../../src/nfe/schema.js';
import { cfeSchema } from '../../src/coupons/cfe/model.js';
import { decodeXmlText } from '../../src/nfe/tree.js';

const localName = (name: string): string => {
  const i = name.indexOf(':');
  return i === -1 ? name : name.slice(i + 1);
};

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  removeNSPrefix: false,
  transformTagName: localName,
  isArray: (_tag: string, jPath: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute && (isRepeatingPath(String(jPath).split('.')) || cfeSchema.isRepeatingPath(String(jPath).split('.'))),
  maxNestedTags: 65,
  jPath: true,
  entityDecoder: { decode: decodeXmlText, reset() {}, setXmlVersion() {}, addInputEntities() {}, setExternalEntities() {} },
} as ConstructorParameters<typeof XMLParser>[0]);

/** fast-xml-parser's model of a document's text (BOM removed, line ends as they are). */
export function fxpModel(text: string): Record<string, unknown> {
  return parser.parse(text) as Record<string, unknown>;
}
