/** The output watermark: keys, marking, and the test of a suspect model's texts. */
export { deriveKey, masterKeyFrom, readMasterKey, scopeName, UNATTRIBUTED, type KeyScope, type MasterKey, type WatermarkKey } from './keys.js';
export { LEXICON } from './lexicon.js';
export { keyedForm, markText, TextMarker } from './mark.js';
export { binomialUpperTail, collectContexts, scoreContexts, type ContextTable, type WatermarkScore } from './statistic.js';
export { prove, type KeyResult, type ProveResult } from './prove.js';
