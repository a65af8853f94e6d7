/**
 * The few parts of a graphology graph that Louvain reads, over plain arrays.
 *
 * graphology-communities-louvain copies its input graph into typed arrays before it does
 * anything else (graphology-indices' UndirectedLouvainIndex), reading only the node list,
 * each node's degree and the edge list with their weights, in insertion order. Building a
 * real graphology graph for that (an object per edge, generated edge keys, adjacency maps
 * both ways) cost about three times the clustering itself, and it is built for every
 * linking run that touches a component. This graph offers exactly what the index reads,
 * in the same order, so Louvain computes exactly the same thing (a test clusters the
 * same graphs both ways and compares).
 */

/** What Louvain is given for one edge's attributes: its weight under the name it is asked for. */
interface WeightAttributes {
  weight: number;
}

export class LouvainGraph {
  // What graphology-utils' isGraph and inferType check before Louvain starts.
  readonly type = 'undirected';
  readonly multi = false;
  readonly selfLoopCount = 0;
  private readonly nodes: string[] = [];
  private readonly degree = new Map<string, number>();
  private readonly sources: string[] = [];
  private readonly targets: string[] = [];
  private readonly attributes: WeightAttributes[] = [];
  /** One attributes object per weight: Louvain only reads them. */
  private readonly byWeight = new Map<number, WeightAttributes>();

  get order(): number {
    return this.nodes.length;
  }
  get size(): number {
    return this.sources.length;
  }

  /** Adds a node; nodes are given in the order Louvain is to see them, each once. */
  addNode(node: string): void {
    if (this.degree.has(node)) throw new Error(`LouvainGraph: node "${node}" added twice`);
    this.nodes.push(node);
    this.degree.set(node, 0);
  }

  /** Adds an edge between two nodes already added (no self loops, no second edge between them). */
  addEdge(source: string, target: string, weight: number): void {
    const ds = this.degree.get(source);
    const dt = this.degree.get(target);
    if (ds === undefined || dt === undefined || source === target) throw new Error(`LouvainGraph: cannot join "${source}" and "${target}"`);
    this.degree.set(source, ds + 1);
    this.degree.set(target, dt + 1);
    this.sources.push(source);
    this.targets.push(target);
    let a = this.byWeight.get(weight);
    if (!a) {
      a = { weight };
      this.byWeight.set(weight, a);
    }
    this.attributes.push(a);
  }

  forEachNode(callback: (node: string, attributes: object) => void): void {
    for (const n of this.nodes) callback(n, NO_ATTRIBUTES);
  }

  undirectedDegreeWithoutSelfLoops(node: string): number {
    return this.degree.get(node) ?? 0;
  }

  forEachEdge(callback: (edge: string, attributes: WeightAttributes, source: string, target: string, sourceAttributes: object, targetAttributes: object, undirected: boolean) => void): void {
    for (let i = 0; i < this.sources.length; i++) callback(String(i), this.attributes[i]!, this.sources[i]!, this.targets[i]!, NO_ATTRIBUTES, NO_ATTRIBUTES, true);
  }

  // Present for graphology-utils' isGraph; Louvain never calls them.
  addUndirectedEdgeWithKey(): never {
    throw new Error('LouvainGraph is read-only to Louvain');
  }
  dropNode(): never {
    throw new Error('LouvainGraph is read-only to Louvain');
  }
}

const NO_ATTRIBUTES: object = Object.freeze({});
