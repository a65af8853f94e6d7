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
  /** Node → its index: only to refuse a node added twice. */
  private readonly index = new Map<string, number>();
  private readonly degree: number[] = [];
  // Edges by node index: a linking run adds tens of thousands, and a string key per end
  // (a concatenation, a hash, two map updates) cost more than Louvain's own pass over them.
  private readonly sources: number[] = [];
  private readonly targets: number[] = [];
  private readonly attributes: WeightAttributes[] = [];
  /** One attributes object per weight: Louvain only reads them. */
  private readonly byWeight = new Map<number, WeightAttributes>();

  get order(): number {
    return this.nodes.length;
  }
  get size(): number {
    return this.sources.length;
  }

  /** Adds a node and returns its index; nodes are given in the order Louvain is to see them, each once. */
  addNode(node: string): number {
    if (this.index.has(node)) throw new Error(`LouvainGraph: node "${node}" added twice`);
    const i = this.nodes.length;
    this.nodes.push(node);
    this.index.set(node, i);
    this.degree.push(0);
    return i;
  }

  /** Adds an edge between two nodes already added, by index (no self loops, no second edge between them). */
  addEdge(source: number, target: number, weight: number): void {
    if (!(source >= 0 && source < this.nodes.length && target >= 0 && target < this.nodes.length) || source === target) {
      throw new Error(`LouvainGraph: cannot join nodes ${source} and ${target}`);
    }
    this.degree[source]!++;
    this.degree[target]!++;
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
    const i = this.index.get(node);
    return i === undefined ? 0 : this.degree[i]!;
  }

  forEachEdge(callback: (edge: string, attributes: WeightAttributes, source: string, target: string, sourceAttributes: object, targetAttributes: object, undirected: boolean) => void): void {
    const nodes = this.nodes;
    for (let i = 0; i < this.sources.length; i++) callback(String(i), this.attributes[i]!, nodes[this.sources[i]!]!, nodes[this.targets[i]!]!, NO_ATTRIBUTES, NO_ATTRIBUTES, true);
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
