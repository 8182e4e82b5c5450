// Embedded resources: to-one, to-many, one-to-one, many-to-many through a
// junction, nested, aliased, !inner, !hint, filters/order/limit on embeds,
// ordering by a to-one embed, and the PGRST2xx errors for bad embeds.
import { beforeAll, describe, expect, it } from 'vitest';
import { anonClient, ensureFixture, rest } from './fixture.ts';

beforeAll(ensureFixture);
const db = () => anonClient();

describe('embedding', () => {
  it('embeds many-to-one as an object and one-to-many as an array', async () => {
    const { data } = await db().from('categories').select('name, vendors(name)').eq('id', 20).single();
    expect(data).toEqual({ name: 'Grills', vendors: { name: 'Suya Spot' } });
    const many = await db().from('vendors').select('id, categories(name)').eq('id', 3).single();
    expect(many.data).toEqual({ id: 3, categories: [{ name: 'Pizzas' }, { name: 'Sides' }] });
  });

  it('embeds one-to-one (unique foreign key) as an object or null', async () => {
    const { data } = await db().from('vendors').select('id, vendor_profiles(bio)').in('id', [1, 3]).order('id');
    expect(data).toEqual([{ id: 1, vendor_profiles: { bio: 'Home cooking since 1999' } }, { id: 3, vendor_profiles: null }]);
  });

  it('embeds many-to-many through the junction table', async () => {
    const { data } = await db().from('items').select('name, modifiers(name)').eq('id', 100).single();
    expect(data).toEqual({ name: 'Jollof rice', modifiers: [{ name: 'Extra meat' }, { name: 'Plantain' }] });
  });

  it('nests embeds with aliases, filters, order and limit on the embedded level', async () => {
    const { data, error } = await db()
      .from('vendors')
      .select('name, menu:categories(name, dishes:items(name, price))')
      .eq('id', 1)
      .eq('menu.dishes.available', true)
      .order('position', { referencedTable: 'menu', ascending: false })
      .order('price', { referencedTable: 'menu.dishes', ascending: false })
      .limit(1, { referencedTable: 'menu.dishes' })
      .single();
    expect(error).toBeNull();
    expect(data).toEqual({ name: 'Mama Put', menu: [{ name: 'Soups', dishes: [] }, { name: 'Rice', dishes: [{ name: 'Fried rice', price: 160000 }] }] });
  });

  it('!inner keeps only parents with matching embedded rows', async () => {
    const { data } = await db().from('vendors').select('id, categories!inner(name)').eq('categories.name', 'Grills');
    expect(data).toEqual([{ id: 2, categories: [{ name: 'Grills' }] }]);
  });

  it('null filtering on an embed (is null / not is null)', async () => {
    const without = await db().from('vendors').select('id, categories(id)').is('categories', null).order('id');
    expect(without.data?.map((v) => v.id)).toEqual([4, 5]);
    const withSome = await db().from('vendors').select('id, categories()').not('categories', 'is', null).order('id');
    expect(withSome.data).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  it('or across embedded resources with null filtering inside the tree', async () => {
    const res = await rest('/vendors?select=id,categories(name)&categories.name=eq.Grills&or=(id.eq.5,categories.not.is.null)&order=id');
    expect(await res.json()).toEqual([{ id: 2, categories: [{ name: 'Grills' }] }, { id: 5, categories: [] }]);
  });

  it('disambiguates with !hint by constraint or column', async () => {
    const byColumn = await db().from('messages').select('body, from:people!sender_id(name), to:people!recipient_id(name)').eq('id', 1).single();
    expect(byColumn.data).toEqual({ body: 'hello', from: { name: 'Ada' }, to: { name: 'Bola' } });
    const byConstraint = await db().from('messages').select('body, people!messages_sender_id_fkey(name)').eq('id', 3).single();
    expect(byConstraint.data).toEqual({ body: 'hey', people: { name: 'Chidi' } });
  });

  it('spreads a to-one embed into the parent object', async () => {
    const { data, error } = await db().from('categories').select('name, ...vendors(vendor_name:name, city)').eq('id', 20).single();
    expect(error).toBeNull();
    expect(data).toEqual({ name: 'Grills', vendor_name: 'Suya Spot', city: 'Abuja' });
    const missing = await db().from('vendors').select('id, ...vendor_profiles(bio)').in('id', [2, 3]).order('id');
    expect(missing.data).toEqual([{ id: 2, bio: 'Best suya in town' }, { id: 3, bio: null }]);
  });

  it('spreads a to-many embed as arrays of values (PostgREST 13)', async () => {
    const { data } = await db().from('vendors').select('id, ...categories(category_names:name, position)').eq('id', 1).order('position', { referencedTable: 'categories', ascending: false }).single();
    expect(data).toEqual({ id: 1, category_names: ['Soups', 'Rice'], position: [2, 1] });
  });

  it('self-relationships: the table name embeds children, the key column the parent, a hint names the children key', async () => {
    const { data, error } = await db().from('people').select('name, reports:people(name), manager:manager_id(name)').eq('id', 2).single();
    expect(error).toBeNull();
    expect(data).toEqual({ name: 'Bola', reports: [{ name: 'Dayo' }], manager: { name: 'Ada' } });
    const hinted = await db().from('people').select('name, people!manager_id(name)').eq('id', 1).order('name', { referencedTable: 'people' }).single();
    expect(hinted.data).toEqual({ name: 'Ada', people: [{ name: 'Bola' }, { name: 'Chidi' }] });
  });

  it('embeds by constraint name or foreign-key column as the target', async () => {
    const { data } = await db().from('messages').select('body, messages_recipient_id_fkey(name), sender_id(name)').eq('id', 2).single();
    expect(data).toEqual({ body: 'hi', messages_recipient_id_fkey: { name: 'Ada' }, sender_id: { name: 'Bola' } });
  });

  it('embeds to and from a view through the keys of its base table', async () => {
    const fromTable = await db().from('categories').select('name, available_items(title)').eq('id', 11).single();
    expect(fromTable.data).toEqual({ name: 'Soups', available_items: [] });
    const fromView = await db().from('available_items').select('title, categories(name), modifiers(name)').eq('id', 200).single();
    expect(fromView.error).toBeNull();
    expect(fromView.data).toEqual({ title: 'Beef suya', categories: { name: 'Grills' }, modifiers: [{ name: 'No pepper' }] });
  });

  it('embeds computed relationships (functions of the parent row), to-many and rows-1 to-one', async () => {
    const { data, error } = await db().from('categories').select('name, top_items(name, price), owner_vendor(name)').eq('id', 10).single();
    expect(error).toBeNull();
    expect(data).toEqual({ name: 'Rice', top_items: [{ name: 'Fried rice', price: 160000 }, { name: 'Jollof rice', price: 150000 }], owner_vendor: { name: 'Mama Put' } });
    const inner = await db().from('categories').select('id, top_items!inner(name)').eq('top_items.name', 'Fries');
    expect(inner.data).toEqual([{ id: 31, top_items: [{ name: 'Fries' }] }]);
  });

  it('orders by a to-one embedded column', async () => {
    const { data } = await db().from('categories').select('name, vendors(name)').order('vendors(name)', { ascending: true }).order('id');
    expect(data?.map((c) => c.name)).toEqual(['Rice', 'Soups', 'Pizzas', 'Sides', 'Grills']);
  });
});

describe('embedding errors', () => {
  it('no relationship: 400 PGRST200', async () => {
    const res = await db().from('vendors').select('id, modifiers(name)');
    expect(res.status).toBe(400);
    expect(res.error).toMatchObject({ code: 'PGRST200', message: "Could not find a relationship between 'vendors' and 'modifiers' in the schema cache" });
  });

  it('suggests a close related table', async () => {
    const res = await db().from('vendors').select('id, categorie(name)');
    expect(res.error?.hint).toBe("Perhaps you meant 'categories' instead of 'categorie'.");
  });

  it('the same relation twice under one name: 400 42712, as Postgres answers PostgREST', async () => {
    const res = await db().from('messages').select('id, people!sender_id(name), people!recipient_id(name)');
    expect(res.status).toBe(400);
    expect(res.error).toMatchObject({ code: '42712', message: 'table name "messages_people_1" specified more than once' });
    const aliased = await db().from('messages').select('id, from:people!sender_id(name), to:people!recipient_id(name)').eq('id', 1).single();
    expect(aliased.data).toEqual({ id: 1, from: { name: 'Ada' }, to: { name: 'Bola' } });
  });

  it('no hint when no related table is close enough (FuzzySet score under 0.33), as PostgREST', async () => {
    const res = await db().from('vendors').select('id, opening_hours(day)');
    expect(res.error).toMatchObject({ code: 'PGRST200', hint: null });
  });

  it('ambiguous relationship: 300 PGRST201 with the candidates', async () => {
    const res = await db().from('messages').select('id, people(name)');
    expect(res.status).toBe(300);
    expect(res.error?.code).toBe('PGRST201');
    expect(res.error?.hint).toContain("'people!messages_sender_id_fkey'");
    // details: an array of objects, not a JSON-encoded string, in PostgREST's order (its
    // schema cache reads foreign keys ordered by table, then constraint name: not the
    // order they were made in, nor where they happen to lie on disk).
    expect(res.error?.details).toEqual([
      { cardinality: 'many-to-one', embedding: 'messages with people', relationship: 'messages_recipient_id_fkey using messages(recipient_id) and people(id)' },
      { cardinality: 'many-to-one', embedding: 'messages with people', relationship: 'messages_sender_id_fkey using messages(sender_id) and people(id)' },
    ]);
  });

  it('filter on a resource that is not embedded: 400 PGRST108', async () => {
    const res = await db().from('vendors').select('id').eq('categories.name', 'Rice');
    expect(res.status).toBe(400);
    expect(res.error?.code).toBe('PGRST108');
  });

  it('ordering by a to-many embed: 400 PGRST118', async () => {
    const res = await db().from('vendors').select('id, categories(name)').order('categories(name)');
    expect(res.status).toBe(400);
    expect(res.error?.code).toBe('PGRST118');
  });

  it('other operators on an embed: 400 PGRST120', async () => {
    const res = await rest('/vendors?select=id,categories(id)&categories=eq.1');
    expect(res.status).toBe(400);
    expect((await res.json()).code).toBe('PGRST120');
  });
});
