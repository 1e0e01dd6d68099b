// The labeling page's registry of control types and object kinds. Each control or object module registers its
// class when imported; the page imports the modules its config names and builds through these lookups, so a
// new type is one new module and no edit here or in the page.
//
// What the page asks of a control class: `new Control(config, { store, objects })` (objects(toName) answers the
// views it names, several for toName="a,b"), mount(sidebar), render(event); and when it has them: shortcuts()
// ([{group, keys, label, run}]), howToAnswer() and focusTarget() (for `required`), answers(item), submits(item),
// escape(), regionLabels(item) and regionDetail(item) (a control whose items are regions in the list),
// show(task) (a task is about to be shown; `task.presentation?.[name]` is how the server says to show it) and
// placeObject(name, canvas) (the element an object it names mounts in, for a control that lays out its objects).
// Of an object view: `new View(config, { store })`, mount(canvas), show(task), render(event); and when it has
// them: attach(control), regions(), preload(task), and a static shortcuts(views) bound once for its kind.

const controlClasses = new Map(); // result type ("choices") -> class
const objectClasses = new Map(); // object kind ("text") -> class

/** A config names a type no loaded module registered: the page says so instead of showing nothing. */
export class UnknownTypeError extends Error {}

export function registerControl(type, ControlClass) {
  register(controlClasses, "control type", type, ControlClass);
}

export function registerObject(kind, ViewClass) {
  register(objectClasses, "object kind", kind, ViewClass);
}

export function controlClass(type) {
  return lookUp(controlClasses, "control type", type);
}

export function objectClass(kind) {
  return lookUp(objectClasses, "object kind", kind);
}

/** Import each module once (importing registers its classes); rejects naming the first module that failed. */
export async function loadModules(urls) {
  const unique = [...new Set(urls.filter(Boolean))];
  await Promise.all(unique.map((url) => import(url).catch((error) => {
    throw new Error(`could not load ${url} (${error.message})`);
  })));
}

function register(classes, what, name, registered) {
  const known = classes.get(name);
  // Two modules claiming one name is a mistake to hear about, not a silent last-one-wins.
  if (known && known !== registered) throw new Error(`the ${what} "${name}" is registered twice`);
  classes.set(name, registered);
}

function lookUp(classes, what, name) {
  const found = classes.get(name);
  if (!found) throw new UnknownTypeError(`the ${what} "${name}" has no module on this page`);
  return found;
}
