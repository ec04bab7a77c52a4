/**
 * Deterministic synthetic catalogue products for the sample app: the same seed and index always give the
 * same product, id included, on any machine and on any day, so seeded datasets (and the benchmarks and
 * search results built on them) are reproducible.
 */

/** A generated product: the columns of the `products` table. */
export interface GeneratedProduct {
  /** A version-4-shaped uuid derived from the seed and index; unique per index for a given seed. */
  id: string;
  /** At most 200 characters (the column's limit). */
  name: string;
  /** One to three sentences. */
  description: string;
  /** One of {@link PRODUCT_CATEGORIES}. */
  category: string;
  /** Non-negative, with at most two decimals (the column is numeric(10, 2)). */
  price: number;
  /** Within the {@link CREATED_AT_SPAN_MS} before {@link REFERENCE_DATE}, whole seconds. */
  createdAt: Date;
}

/**
 * The moment creation dates count back from. Fixed rather than "now" so that a seed gives identical rows
 * whenever it runs; re-seeding on another day must not produce a different dataset.
 */
export const REFERENCE_DATE = new Date('2026-11-01T00:00:00.000Z');

/** How far back creation dates reach from {@link REFERENCE_DATE}: about three years. */
export const CREATED_AT_SPAN_MS = 3 * 365 * 24 * 60 * 60 * 1000;

/** Largest seed and index accepted: both are mixed as unsigned 32-bit integers. */
export const MAX_SEED_OR_INDEX = 0xffff_ffff;

/** A kind of product within a category, with the words that fit it and its typical price. */
interface ItemKind {
  noun: string;
  plural: boolean;
  basePrice: number;
  /** At least one; added to the category's general adjectives. */
  adjectives: readonly string[];
  /** What the product is made with: a material, or the key ingredient for cosmetics. At least one. */
  materials: readonly string[];
  /** Noun phrases that read after "features" or "with". At least three, so a description never repeats one. */
  features: readonly string[];
  /** Noun phrases that read after "built for" or "ideal for"; added to the category's general uses. */
  uses: readonly string[];
}

/** Words shared by every product of a category; each needs at least two adjectives and uses in all. */
interface CategoryVocabulary {
  category: string;
  brands: readonly string[];
  adjectives: readonly string[];
  uses: readonly string[];
  items: readonly ItemKind[];
}

type ItemWords = Pick<ItemKind, 'adjectives' | 'materials' | 'features' | 'uses'>;
const one = (noun: string, basePrice: number, words: ItemWords): ItemKind => ({ noun, plural: false, basePrice, ...words });
const many = (noun: string, basePrice: number, words: ItemWords): ItemKind => ({ noun, plural: true, basePrice, ...words });

// Words are chosen per item rather than per category so that a description never gives a garden hose a
// battery: search results then make sense, e.g. "waterproof hiking boots" finds boots, not headlamps.
// No adjective or material repeats a word of its item's noun, or names would read "Cordless Cordless Drill".
const VOCABULARY: readonly CategoryVocabulary[] = [
  {
    category: 'Footwear',
    brands: ['Northridge', 'Stridewell', 'Alpenfoot', 'Cobble & Co.', 'Velo Sole', 'Trailhawk'],
    adjectives: ['lightweight', 'comfortable', 'durable'],
    uses: ['all-day wear', 'everyday comfort'],
    items: [
      many('hiking boots', 149, {
        adjectives: ['waterproof', 'insulated', 'rugged'],
        materials: ['full-grain leather', 'nubuck', 'suede'],
        features: ['a waterproof breathable membrane', 'a grippy Vibram outsole', 'a reinforced toe cap', 'a padded ankle collar'],
        uses: ['muddy hiking trails', 'rocky mountain descents', 'multi-day treks'],
      }),
      many('trail running shoes', 129, {
        adjectives: ['waterproof', 'breathable', 'grippy'],
        materials: ['recycled mesh', 'engineered knit'],
        features: ['a protective rock plate', 'aggressive 5 mm lugs', 'a waterproof breathable membrane', 'a quick-pull lacing system'],
        uses: ['trail running', 'ultramarathons', 'muddy forest paths'],
      }),
      many('road running shoes', 119, {
        adjectives: ['breathable', 'responsive', 'cushioned'],
        materials: ['engineered knit', 'recycled mesh'],
        features: ['a carbon-fibre plate', 'a responsive foam midsole', 'reflective heel details', 'a cushioned EVA midsole'],
        uses: ['marathon training', 'daily 10k runs', 'tempo sessions'],
      }),
      many('loafers', 99, {
        adjectives: ['handcrafted', 'polished', 'classic'],
        materials: ['full-grain leather', 'suede', 'calfskin'],
        features: ['a cushioned leather footbed', 'Blake-stitched soles', 'a flexible rubber heel'],
        uses: ['the office', 'weddings', 'smart-casual weekends'],
      }),
      many('chelsea boots', 139, {
        adjectives: ['water-resistant', 'handcrafted', 'sleek'],
        materials: ['suede', 'full-grain leather', 'waxed leather'],
        features: ['elastic side panels', 'a pull-on heel tab', 'a Goodyear-welted sole', 'a stacked leather heel'],
        uses: ['rainy city streets', 'the office', 'evenings out'],
      }),
      many('sandals', 49, {
        adjectives: ['adjustable', 'quick-drying', 'vegan'],
        materials: ['recycled rubber', 'natural cork', 'vegan leather'],
        features: ['a contoured cork footbed', 'adjustable buckle straps', 'a non-slip sole'],
        uses: ['summer holidays', 'beach days', 'warm-weather walks'],
      }),
      many('winter boots', 159, {
        adjectives: ['insulated', 'waterproof', 'slip-resistant'],
        materials: ['full-grain leather', 'nylon', 'shearling-lined suede'],
        features: ['200 g Thinsulate insulation', 'a snow-proof gaiter', 'an ice-grip outsole', 'a removable felt liner'],
        uses: ['snowy sidewalks', 'sub-zero commutes', 'ski-resort evenings'],
      }),
      many('sneakers', 79, {
        adjectives: ['minimalist', 'retro', 'everyday'],
        materials: ['canvas', 'white leather', 'recycled mesh'],
        features: ['a vulcanised rubber sole', 'a padded tongue', 'organic cotton laces'],
        uses: ['city walks', 'weekend errands', 'travel days'],
      }),
      many('slippers', 35, {
        adjectives: ['cosy', 'washable', 'fleece-lined'],
        materials: ['sheepskin', 'wool felt', 'recycled fleece'],
        features: ['a memory-foam footbed', 'an indoor-outdoor sole', 'a plush lining'],
        uses: ['lazy Sunday mornings', 'chilly floors'],
      }),
      many('work boots', 119, {
        adjectives: ['steel-toe', 'slip-resistant', 'waterproof'],
        materials: ['oiled leather', 'Kevlar-reinforced nylon'],
        features: ['a composite safety toe cap', 'an oil- and slip-resistant outsole', 'a puncture-resistant midsole', 'electrical hazard protection'],
        uses: ['construction sites', 'warehouse shifts', 'long shifts on your feet'],
      }),
    ],
  },
  {
    category: 'Outdoor & Camping',
    brands: ['Summit Ridge', 'Wildmoor', 'Pinecrest Gear', 'Fjordline', 'Basecamp Co.', 'Emberline'],
    adjectives: ['packable', 'rugged', 'trail-tested'],
    uses: ['backpacking trips', 'camping weekends', 'wilderness adventures'],
    items: [
      one('two-person tent', 229, {
        adjectives: ['waterproof', 'ultralight', 'four-season', 'freestanding'],
        materials: ['ripstop nylon', 'silicone-coated polyester'],
        features: ['fully taped seams', 'a full-coverage rain fly', 'two doors and vestibules', 'a quick-pitch pole system', 'reflective guy lines'],
        uses: ['wet weekend camping', 'alpine treks', 'festival weekends'],
      }),
      one('sleeping bag', 139, {
        adjectives: ['ultralight', 'insulated', 'three-season'],
        materials: ['650-fill down', 'synthetic insulation', 'ripstop nylon'],
        features: ['a comfort rating of -5 °C', 'an insulated draft collar', 'a compression stuff sack', 'a full-length two-way zip'],
        uses: ['cold nights under the stars', 'alpine huts'],
      }),
      one('hiking backpack', 119, {
        adjectives: ['ventilated', 'lightweight', 'weatherproof'],
        materials: ['ripstop nylon', 'recycled polyester', 'Dyneema fabric'],
        features: ['an adjustable ventilated back panel', 'a 45-litre capacity', 'a hydration sleeve', 'an integrated rain cover', 'hip-belt pockets'],
        uses: ['day hikes', 'multi-day treks'],
      }),
      one('rain jacket', 159, {
        adjectives: ['waterproof', 'breathable', 'windproof'],
        materials: ['Gore-Tex fabric', 'three-layer nylon', 'recycled polyester'],
        features: ['fully taped seams', 'pit zips for ventilation', 'a helmet-compatible hood', 'a 20,000 mm waterproof rating'],
        uses: ['downpours on the trail', 'hill walking', 'wet commutes'],
      }),
      one('camping stove', 59, {
        adjectives: ['compact', 'lightweight', 'wind-resistant'],
        materials: ['titanium', 'stainless steel', 'anodised aluminium'],
        features: ['a piezo igniter', 'a simmer control valve', 'a boil time of 3 minutes per litre', 'fold-away pot supports'],
        uses: ['backcountry cooking', 'car camping'],
      }),
      one('headlamp', 39, {
        adjectives: ['rechargeable', 'waterproof', 'bright'],
        materials: ['anodised aluminium', 'impact-resistant polycarbonate'],
        features: ['a 400-lumen beam', 'a red night-vision mode', 'a USB-C rechargeable battery', 'an IPX7 waterproof rating'],
        uses: ['night hikes', 'early alpine starts', 'campsite chores'],
      }),
      many('trekking poles', 69, {
        adjectives: ['collapsible', 'lightweight', 'adjustable'],
        materials: ['carbon fibre', 'aluminium alloy'],
        features: ['natural cork grips', 'flick-lock height adjustment', 'tungsten carbide tips', 'interchangeable snow baskets'],
        uses: ['steep descents', 'knee-friendly hiking'],
      }),
      one('hammock', 49, {
        adjectives: ['ultralight', 'breathable', 'double-size'],
        materials: ['parachute nylon', 'ripstop nylon'],
        features: ['tree-friendly straps', 'a built-in bug net', 'aluminium carabiners'],
        uses: ['lazy afternoons at camp', 'beach trips'],
      }),
      one('water filter', 39, {
        adjectives: ['compact', 'lightweight', 'squeeze-style'],
        materials: ['BPA-free plastic', 'hollow-fibre membrane'],
        features: ['0.1-micron filtration', 'a 1,000-litre filter life', 'a collapsible pouch', 'a drinking-straw adapter'],
        uses: ['backcountry water sources', 'international travel', 'emergency kits'],
      }),
      one('camp chair', 45, {
        adjectives: ['folding', 'lightweight', 'sturdy'],
        materials: ['aluminium alloy', 'ripstop polyester'],
        features: ['a 120 kg load capacity', 'a mesh cup holder', 'a carry bag'],
        uses: ['campsites', 'music festivals', 'the beach'],
      }),
    ],
  },
  {
    category: 'Electronics',
    brands: ['Voltiq', 'Lumenara', 'Sonique', 'Pixelforge', 'Arcwave', 'Nexon Labs'],
    adjectives: ['compact', 'sleek', 'premium'],
    uses: ['everyday use', 'life on the go'],
    items: [
      many('earbuds', 129, {
        adjectives: ['wireless', 'noise-cancelling', 'sweat-resistant'],
        materials: ['matte polycarbonate', 'recycled plastics'],
        features: ['active noise cancellation', 'up to 30 hours of battery life with the case', 'multipoint Bluetooth 5.3 pairing', 'an IPX4 sweat-resistance rating', 'a wireless charging case'],
        uses: ['commuting', 'workouts', 'flights'],
      }),
      many('over-ear headphones', 199, {
        adjectives: ['noise-cancelling', 'wireless', 'studio-grade'],
        materials: ['brushed aluminium', 'protein leather'],
        features: ['active noise cancellation', '40 mm dynamic drivers', 'up to 50 hours of battery life', 'a foldable design', 'memory-foam ear cushions'],
        uses: ['long flights', 'focused work', 'music production'],
      }),
      one('bluetooth speaker', 89, {
        adjectives: ['portable', 'waterproof', 'rugged'],
        materials: ['recycled fabric mesh', 'silicone'],
        features: ['360-degree sound', 'an IP67 waterproof rating', '20 hours of playtime', 'stereo pairing'],
        uses: ['pool parties', 'camping', 'the kitchen'],
      }),
      one('smartwatch', 249, {
        adjectives: ['water-resistant', 'fitness-focused', 'lightweight'],
        materials: ['titanium', 'stainless steel', 'aluminium'],
        features: ['built-in GPS', 'heart-rate and sleep tracking', 'an always-on AMOLED display', 'up to 7 days of battery life', 'contactless payments'],
        uses: ['workouts', 'marathon training', 'busy days'],
      }),
      one('4K monitor', 379, {
        adjectives: ['colour-accurate', 'frameless', 'height-adjustable'],
        materials: ['matte aluminium'],
        features: ['a 144 Hz refresh rate', 'USB-C with 90 W power delivery', 'HDR10 support', 'a height-adjustable stand'],
        uses: ['photo editing', 'gaming sessions'],
      }),
      one('mechanical keyboard', 119, {
        adjectives: ['hot-swappable', 'wireless', 'RGB-backlit'],
        materials: ['CNC-machined aluminium', 'PBT plastic'],
        features: ['hot-swappable switches', 'per-key RGB lighting', 'doubleshot PBT keycaps', 'tri-mode connectivity'],
        uses: ['gaming sessions', 'programming', 'writing'],
      }),
      one('mouse', 59, {
        adjectives: ['ergonomic', 'wireless', 'silent-click'],
        materials: ['matte polycarbonate', 'recycled plastics'],
        features: ['a 26,000 DPI sensor', 'silent switches', 'a 70-day battery life', 'programmable side buttons'],
        uses: ['gaming', 'spreadsheets'],
      }),
      one('power bank', 45, {
        adjectives: ['fast-charging', 'slim', 'pocket-sized'],
        materials: ['aluminium', 'recycled plastics'],
        features: ['a 20,000 mAh capacity', '65 W USB-C power delivery', 'pass-through charging', 'a built-in cable'],
        uses: ['festivals', 'long workdays'],
      }),
      one('action camera', 299, {
        adjectives: ['waterproof', 'stabilised', 'rugged'],
        materials: ['rubberised polycarbonate'],
        features: ['5.3K video at 60 fps', 'electronic image stabilisation', 'waterproofing to 10 metres', 'front and rear screens'],
        uses: ['mountain biking', 'surfing', 'vlogging'],
      }),
      one('e-reader', 139, {
        adjectives: ['glare-free', 'waterproof', 'lightweight'],
        materials: ['soft-touch recycled plastics'],
        features: ['a 300 ppi glare-free display', 'an adjustable warm light', 'weeks of battery life', '32 GB of storage'],
        uses: ['bedtime reading', 'beach holidays', 'commutes'],
      }),
      one('portable SSD', 109, {
        adjectives: ['rugged', 'pocket-sized', 'fast'],
        materials: ['anodised aluminium'],
        features: ['read speeds up to 1,050 MB/s', '1 TB of storage', 'hardware encryption', 'drop resistance up to 2 metres'],
        uses: ['video editing', 'backups'],
      }),
    ],
  },
  {
    category: 'Home & Kitchen',
    brands: ['Hearthstone', 'Copper & Clay', 'Maison Verde', 'Kitchenry', 'Ovenly', 'Saltbox'],
    adjectives: ['everyday', 'professional-quality'],
    uses: ['everyday cooking', 'busy home cooks'],
    items: [
      one("chef's knife", 89, {
        adjectives: ['razor-sharp', 'hand-forged', 'balanced'],
        materials: ['Japanese VG-10 steel', 'Damascus steel', 'German stainless steel'],
        features: ['a full-tang blade', 'an ergonomic pakkawood handle', 'a 15-degree edge'],
        uses: ['precise vegetable prep', 'meal prep'],
      }),
      one('skillet', 49, {
        adjectives: ['pre-seasoned', 'oven-safe', 'induction-ready'],
        materials: ['cast iron', 'carbon steel'],
        features: ['a pre-seasoned cooking surface', 'even heat retention', 'a helper handle', 'twin pour spouts'],
        uses: ['searing steaks', 'campfire cooking'],
      }),
      one('frying pan', 39, {
        adjectives: ['nonstick', 'dishwasher-safe', 'induction-ready'],
        materials: ['hard-anodised aluminium', 'tri-ply stainless steel', 'ceramic-coated aluminium'],
        features: ['a PFAS-free nonstick coating', 'a stay-cool handle', 'oven-safe construction up to 260 °C'],
        uses: ['eggs and omelettes', 'quick weeknight dinners'],
      }),
      one('stand mixer', 349, {
        adjectives: ['powerful', 'heavy-duty', 'tilt-head'],
        materials: ['die-cast metal', 'brushed stainless steel'],
        features: ['a 5-litre stainless bowl', '10 speed settings', 'a dough hook, whisk and beater', 'a splash guard'],
        uses: ['weekend baking', 'bread making', 'holiday cookies'],
      }),
      one('espresso machine', 499, {
        adjectives: ['semi-automatic', 'compact', 'barista-grade'],
        materials: ['brushed stainless steel'],
        features: ['15-bar pressure', 'a steam wand for milk frothing', 'a built-in conical grinder', 'PID temperature control'],
        uses: ['the morning coffee ritual', 'flat whites at home'],
      }),
      one('blender', 119, {
        adjectives: ['high-speed', 'powerful', 'quiet'],
        materials: ['BPA-free Tritan', 'brushed stainless steel'],
        features: ['a 1,200 W motor', 'a 2-litre jug', 'pulse and smoothie presets', 'a self-cleaning mode'],
        uses: ['smoothies', 'soups', 'nut butters'],
      }),
      one('dutch oven', 129, {
        adjectives: ['enamelled', 'heirloom-quality', 'heavy'],
        materials: ['enamelled cast iron'],
        features: ['a tight-fitting self-basting lid', 'a 5.5-litre capacity', 'even heat retention'],
        uses: ['slow-cooked stews', 'sourdough baking', 'braises'],
      }),
      one('electric kettle', 59, {
        adjectives: ['temperature-controlled', 'quick-boil', 'cordless'],
        materials: ['stainless steel', 'borosilicate glass'],
        features: ['five temperature presets', 'a keep-warm function', 'a 1.7-litre capacity', 'boil-dry protection'],
        uses: ['tea lovers', 'pour-over coffee'],
      }),
      one('air fryer', 129, {
        adjectives: ['energy-efficient', 'dishwasher-safe', 'family-size'],
        materials: ['brushed stainless steel', 'BPA-free plastic'],
        features: ['a 5.5-litre basket', 'eight cooking presets', 'a viewing window', 'rapid air circulation'],
        uses: ['crispy chips with less oil', 'quick weeknight dinners'],
      }),
      one('cutting board', 35, {
        adjectives: ['reversible', 'knife-friendly', 'end-grain'],
        materials: ['acacia wood', 'bamboo', 'walnut'],
        features: ['juice grooves', 'non-slip feet', 'built-in handles'],
        uses: ['meal prep', 'carving roasts', 'serving cheese'],
      }),
    ],
  },
  {
    category: 'Furniture',
    brands: ['Oakhaven', 'Nordlys Home', 'Loft & Larch', 'Arbor Living', 'Casa Forma', 'Hollowbrook'],
    adjectives: ['modern', 'timeless'],
    uses: ['small apartments', 'family homes'],
    items: [
      one('three-seat sofa', 899, {
        adjectives: ['modular', 'deep-seated', 'mid-century'],
        materials: ['bouclé fabric', 'velvet', 'performance linen', 'top-grain leather'],
        features: ['stain-resistant upholstery', 'feather-wrapped cushions', 'removable washable covers', 'solid hardwood legs'],
        uses: ['movie nights', 'family living rooms'],
      }),
      one('dining table', 649, {
        adjectives: ['extendable', 'solid', 'Scandinavian'],
        materials: ['solid oak', 'walnut veneer', 'reclaimed pine'],
        features: ['seating for six', 'an extension leaf', 'a hand-oiled finish'],
        uses: ['family dinners', 'dinner parties'],
      }),
      one('office chair', 279, {
        adjectives: ['ergonomic', 'breathable', 'adjustable'],
        materials: ['breathable mesh', 'recycled fabric'],
        features: ['adjustable lumbar support', '4D armrests', 'a synchronised tilt mechanism', 'a 150 kg load capacity'],
        uses: ['long workdays', 'home offices', 'gaming'],
      }),
      one('bookshelf', 189, {
        adjectives: ['five-tier', 'industrial', 'sturdy'],
        materials: ['solid oak', 'powder-coated steel', 'white lacquered wood'],
        features: ['adjustable shelves', 'a wall anchor kit', 'a 30 kg per shelf capacity'],
        uses: ['growing book collections', 'living-room displays'],
      }),
      one('bed frame', 499, {
        adjectives: ['upholstered', 'low-profile', 'solid'],
        materials: ['solid pine', 'velvet', 'walnut veneer'],
        features: ['under-bed storage drawers', 'a padded headboard', 'slatted support that needs no box spring'],
        uses: ['guest bedrooms', 'master bedrooms'],
      }),
      one('coffee table', 229, {
        adjectives: ['mid-century', 'lift-top', 'round'],
        materials: ['solid oak', 'tempered glass', 'natural rattan'],
        features: ['hidden storage', 'a lift-up top', 'rounded corners'],
        uses: ['living rooms', 'coffee with friends'],
      }),
      one('standing desk', 449, {
        adjectives: ['height-adjustable', 'electric', 'sturdy'],
        materials: ['bamboo', 'solid beech', 'powder-coated steel'],
        features: ['dual motors', 'a height range of 71 to 121 cm', 'four memory presets', 'anti-collision detection'],
        uses: ['home offices', 'healthier workdays'],
      }),
      one('wardrobe', 699, {
        adjectives: ['spacious', 'sliding-door', 'modular'],
        materials: ['oak veneer', 'solid pine', 'mirrored glass'],
        features: ['soft-close hinges', 'an integrated hanging rail', 'adjustable shelves'],
        uses: ['bedrooms', 'walk-in closets'],
      }),
      many('bar stools', 179, {
        adjectives: ['swivel', 'counter-height', 'stackable'],
        materials: ['natural rattan', 'powder-coated steel', 'faux leather'],
        features: ['padded seats', 'integrated footrests', 'floor-protecting pads'],
        uses: ['kitchen islands', 'home bars'],
      }),
      one('armchair', 399, {
        adjectives: ['wingback', 'reclining', 'cosy'],
        materials: ['velvet', 'bouclé fabric', 'tan leather'],
        features: ['high-density foam cushions', 'solid beech legs', 'a reclining backrest'],
        uses: ['cosy reading corners', 'living rooms'],
      }),
    ],
  },
  {
    category: 'Apparel',
    brands: ['Threadline', 'Harbor & Pine', 'Urbanknit', 'Woolfield', 'Kestrel', 'Common Thread'],
    adjectives: ['timeless', 'versatile'],
    uses: ['everyday wear', 'weekend travel'],
    items: [
      one('crewneck sweater', 89, {
        adjectives: ['cosy', 'chunky-knit', 'lightweight'],
        materials: ['merino wool', 'cashmere blend', 'organic cotton'],
        features: ['ribbed cuffs and hem', 'a relaxed fit', 'pill-resistant yarn'],
        uses: ['layering in autumn', 'cold winter mornings', 'office days'],
      }),
      one('denim jacket', 99, {
        adjectives: ['classic', 'cropped', 'sherpa-lined'],
        materials: ['selvedge denim', 'organic cotton'],
        features: ['copper button closures', 'chest flap pockets', 'a sherpa collar'],
        uses: ['spring evenings', 'casual Fridays'],
      }),
      many('chinos', 69, {
        adjectives: ['slim-fit', 'stretch', 'tailored'],
        materials: ['organic cotton twill', 'stretch cotton'],
        features: ['a tapered leg', 'a hidden phone pocket', 'a wrinkle-resistant finish'],
        uses: ['office days', 'casual Fridays', 'dinner dates'],
      }),
      one('hoodie', 65, {
        adjectives: ['oversized', 'brushed', 'heavyweight'],
        materials: ['organic cotton fleece', 'recycled polyester'],
        features: ['a brushed soft interior', 'a kangaroo pocket', 'thumbhole cuffs'],
        uses: ['lazy weekends', 'post-workout layering'],
      }),
      one('oxford shirt', 59, {
        adjectives: ['slim-fit', 'breathable', 'non-iron'],
        materials: ['organic cotton', 'linen blend'],
        features: ['a button-down collar', 'a curved hem', 'mother-of-pearl buttons'],
        uses: ['office days', 'summer evenings'],
      }),
      one('puffer jacket', 179, {
        adjectives: ['insulated', 'water-repellent', 'packable'],
        materials: ['700-fill down', 'recycled synthetic insulation', 'ripstop nylon'],
        features: ['a two-way zip', 'a detachable hood', 'zipped hand pockets', 'a packable stuff sack'],
        uses: ['cold winter mornings', 'city winters', 'ski trips'],
      }),
      one('overcoat', 249, {
        adjectives: ['tailored', 'double-breasted', 'knee-length'],
        materials: ['wool blend', 'cashmere blend'],
        features: ['a satin lining', 'notch lapels', 'inner pockets'],
        uses: ['winter commutes', 'formal occasions'],
      }),
      many('jeans', 89, {
        adjectives: ['straight-leg', 'slim-fit', 'stretch'],
        materials: ['selvedge denim', 'organic cotton'],
        features: ['reinforced stitching', 'a button fly', 'a classic five-pocket design'],
        uses: ['casual Fridays', 'weekend errands'],
      }),
      one('t-shirt', 25, {
        adjectives: ['relaxed-fit', 'breathable', 'heavyweight'],
        materials: ['organic cotton', 'Pima cotton', 'linen blend'],
        features: ['a tag-free neckline', 'pre-shrunk fabric', 'double-stitched seams'],
        uses: ['summer days', 'layering'],
      }),
      one('beanie', 29, {
        adjectives: ['ribbed', 'cosy', 'chunky-knit'],
        materials: ['merino wool', 'recycled acrylic', 'cashmere blend'],
        features: ['a fold-over cuff', 'a fleece lining', 'a soft rib knit'],
        uses: ['cold winter mornings', 'ski trips'],
      }),
    ],
  },
  {
    category: 'Sports & Fitness',
    brands: ['Ironpeak', 'Flexora', 'Pacewise', 'Corestrong', 'Apex Motion', 'Kinetiq'],
    adjectives: ['durable', 'gym-quality'],
    uses: ['home workouts', 'training sessions'],
    items: [
      one('yoga mat', 45, {
        adjectives: ['non-slip', 'extra-thick', 'eco-friendly'],
        materials: ['natural rubber', 'TPE foam', 'natural cork'],
        features: ['a textured non-slip surface', 'alignment lines', 'a carrying strap', 'a 6 mm cushioned thickness'],
        uses: ['hot yoga', 'pilates', 'stretching'],
      }),
      many('dumbbells', 179, {
        adjectives: ['adjustable', 'space-saving', 'rubber-coated'],
        materials: ['cast iron', 'chrome-plated steel'],
        features: ['quick-change weight selection from 2 to 24 kg', 'a compact storage tray', 'knurled grips'],
        uses: ['strength training', 'home gyms'],
      }),
      many('resistance bands', 25, {
        adjectives: ['portable', 'colour-coded', 'heavy-duty'],
        materials: ['natural latex', 'fabric-covered TPE'],
        features: ['five resistance levels', 'door anchors and handles', 'a travel pouch'],
        uses: ['physiotherapy exercises', 'travel workouts', 'glute training'],
      }),
      one('kettlebell', 59, {
        adjectives: ['powder-coated', 'competition-style', 'single-piece'],
        materials: ['cast iron', 'steel'],
        features: ['a wide flat base', 'a textured grip handle', 'colour-coded weights'],
        uses: ['swings and snatches', 'functional training'],
      }),
      one('foam roller', 29, {
        adjectives: ['high-density', 'textured', 'vibrating'],
        materials: ['EVA foam', 'EPP foam'],
        features: ['a textured massage surface', 'three vibration settings', 'a hollow core for travel packing'],
        uses: ['post-run recovery', 'sore muscles'],
      }),
      one('jump rope', 19, {
        adjectives: ['weighted', 'adjustable', 'speed'],
        materials: ['coated steel cable', 'PVC'],
        features: ['ball-bearing handles', 'a tangle-free cable', 'a digital jump counter'],
        uses: ['HIIT workouts', 'boxing conditioning'],
      }),
      one('cycling helmet', 89, {
        adjectives: ['aerodynamic', 'ventilated', 'lightweight'],
        materials: ['in-mould EPS foam', 'polycarbonate'],
        features: ['a MIPS safety liner', '18 ventilation channels', 'an integrated rear LED light'],
        uses: ['road cycling', 'commuting by bike'],
      }),
      one('rowing machine', 799, {
        adjectives: ['foldable', 'magnetic', 'quiet'],
        materials: ['aluminium', 'solid ash wood'],
        features: ['16 magnetic resistance levels', 'a performance monitor', 'a frame that folds flat for storage'],
        uses: ['full-body cardio', 'home gyms'],
      }),
      one('fitness tracker', 99, {
        adjectives: ['waterproof', 'slim', 'lightweight'],
        materials: ['silicone', 'aluminium'],
        features: ['a built-in heart-rate monitor', 'sleep tracking', '14-day battery life', 'swim tracking'],
        uses: ['marathon training', 'daily step goals'],
      }),
      one('pull-up bar', 39, {
        adjectives: ['doorway', 'heavy-duty', 'multi-grip'],
        materials: ['powder-coated steel'],
        features: ['foam-padded grips', 'a 150 kg load capacity', 'screw-free doorway mounting'],
        uses: ['upper-body strength', 'calisthenics'],
      }),
    ],
  },
  {
    category: 'Beauty & Personal Care',
    brands: ['Lumière Botanica', 'Purelle', 'Dermaly', 'Verdant Skin', 'Glowhaus', 'Nuvée'],
    adjectives: ['cruelty-free', 'dermatologist-tested'],
    uses: ['daily routines', 'travel'],
    items: [
      one('moisturiser', 29, {
        adjectives: ['hydrating', 'fragrance-free', 'lightweight'],
        materials: ['hyaluronic acid', 'ceramides', 'shea butter'],
        features: ['a non-greasy finish', '24-hour hydration', 'a recyclable pump bottle'],
        uses: ['dry winter skin', 'sensitive skin'],
      }),
      one('vitamin C serum', 35, {
        adjectives: ['brightening', 'antioxidant', 'fast-absorbing'],
        materials: ['ferulic acid', 'niacinamide'],
        features: ['15% pure vitamin C', 'a dropper applicator', 'light-protective glass packaging'],
        uses: ['dull skin', 'morning routines'],
      }),
      one('SPF 50 sunscreen', 19, {
        adjectives: ['water-resistant', 'reef-safe', 'mineral'],
        materials: ['zinc oxide', 'aloe vera'],
        features: ['broad-spectrum UVA/UVB protection', 'an invisible finish', '80 minutes of water resistance'],
        uses: ['beach days', 'outdoor sports'],
      }),
      one('hair dryer', 129, {
        adjectives: ['ionic', 'lightweight', 'quiet'],
        materials: ['ceramic tourmaline'],
        features: ['ionic frizz control', 'three heat and two speed settings', 'a cool-shot button', 'a diffuser attachment'],
        uses: ['curly hair', 'busy mornings'],
      }),
      one('electric toothbrush', 79, {
        adjectives: ['sonic', 'rechargeable', 'whitening'],
        materials: ['soft-touch recycled plastics'],
        features: ['sonic cleaning technology', 'a two-minute smart timer', 'a pressure sensor', 'a travel case'],
        uses: ['gum care', 'twice-daily brushing'],
      }),
      one('shampoo', 14, {
        adjectives: ['sulfate-free', 'clarifying', 'volumising'],
        materials: ['argan oil', 'tea tree oil', 'rosemary extract'],
        features: ['a refillable bottle', 'a salon-grade formula', 'colour-safe cleansing'],
        uses: ['colour-treated hair', 'oily scalps'],
      }),
      one('beard trimmer', 59, {
        adjectives: ['cordless', 'waterproof', 'precision'],
        materials: ['stainless steel'],
        features: ['self-sharpening blades', '20 length settings', 'a 90-minute runtime'],
        uses: ['stubble and full beards', 'quick touch-ups'],
      }),
      one('face cleanser', 17, {
        adjectives: ['gentle', 'foaming', 'pH-balanced'],
        materials: ['salicylic acid', 'green tea extract', 'glycerin'],
        features: ['a soap-free formula', 'makeup-removing power', 'a pump dispenser'],
        uses: ['acne-prone skin', 'sensitive skin'],
      }),
      one('hair straightener', 89, {
        adjectives: ['fast-heating', 'professional', 'compact'],
        materials: ['ceramic tourmaline', 'titanium'],
        features: ['floating plates', 'adjustable heat up to 230 °C', 'automatic shut-off'],
        uses: ['sleek styles', 'curls and waves'],
      }),
      one('lip balm', 7, {
        adjectives: ['tinted', 'nourishing', 'SPF 15'],
        materials: ['shea butter', 'beeswax', 'jojoba oil'],
        features: ['a long-lasting formula', 'a plastic-free tube', 'a subtle vanilla scent'],
        uses: ['chapped lips', 'windy days'],
      }),
    ],
  },
  {
    category: 'Toys & Games',
    brands: ['Brightblock', 'Pip & Pebble', 'Toyvana', 'Meadowlark Play', 'Kidzoom', 'Tinker Town'],
    adjectives: ['award-winning', 'family-friendly'],
    uses: ['screen-free play', 'rainy afternoons', 'curious minds'],
    items: [
      one('building blocks set', 49, {
        adjectives: ['creative', 'STEM', 'colourful'],
        materials: ['BPA-free plastic', 'FSC-certified beech wood'],
        features: ['500 interlocking pieces', 'illustrated step-by-step instructions', 'a storage tub'],
        uses: ['ages 6 and up', 'creative builders'],
      }),
      one('train set', 59, {
        adjectives: ['wooden', 'battery-powered', 'expandable'],
        materials: ['FSC-certified beech wood', 'non-toxic water-based paint'],
        features: ['80 track pieces', 'a magnetic coupling engine', 'a bridge and tunnel'],
        uses: ['ages 3 and up', 'toddlers'],
      }),
      one('strategy board game', 39, {
        adjectives: ['cooperative', 'fast-paced', 'beautifully illustrated'],
        materials: ['recycled cardboard', 'solid wood'],
        features: ['room for 2 to 6 players', '45-minute games', 'over 200 illustrated cards'],
        uses: ['family game nights', 'teens and adults'],
      }),
      one('1000-piece jigsaw puzzle', 19, {
        adjectives: ['challenging', 'panoramic', 'colourful'],
        materials: ['recycled cardboard', 'premium blue board'],
        features: ['precision-cut pieces', 'a reference poster', 'a matte glare-free finish'],
        uses: ['quiet evenings', 'puzzle enthusiasts'],
      }),
      one('remote control car', 69, {
        adjectives: ['off-road', 'rechargeable', 'high-speed'],
        materials: ['impact-resistant ABS', 'nylon composite'],
        features: ['a top speed of 30 km/h', 'four-wheel drive', 'a 2.4 GHz remote', 'rechargeable batteries'],
        uses: ['backyard racing', 'ages 8 and up'],
      }),
      one('plush bear', 24, {
        adjectives: ['huggable', 'washable', 'hypoallergenic'],
        materials: ['organic cotton', 'recycled polyester plush'],
        features: ['embroidered eyes for safety', 'a machine-washable body', 'a gift box'],
        uses: ['newborns and up', 'bedtime cuddles'],
      }),
      one('science kit', 34, {
        adjectives: ['educational', 'STEM', 'hands-on'],
        materials: ['non-toxic reagents', 'recyclable plastics'],
        features: ['30 guided experiments', 'safety goggles', 'an illustrated lab manual'],
        uses: ['curious kids', 'classroom learning', 'ages 8 and up'],
      }),
      one('dollhouse', 119, {
        adjectives: ['three-storey', 'wooden', 'furnished'],
        materials: ['FSC-certified plywood', 'non-toxic water-based paint'],
        features: ['15 pieces of furniture', 'a working lift', 'an open back for easy play'],
        uses: ['imaginative play', 'ages 3 and up'],
      }),
      one('card game', 15, {
        adjectives: ['fast-paced', 'party', 'pocket-sized'],
        materials: ['linen-finish cardstock'],
        features: ['110 cards', '15-minute rounds', 'room for 2 to 10 players'],
        uses: ['party nights', 'travel'],
      }),
      one('marble run', 45, {
        adjectives: ['magnetic', 'transparent', 'expandable'],
        materials: ['BPA-free plastic', 'beech wood'],
        features: ['120 track pieces', '50 glass marbles', 'a glow-in-the-dark finish'],
        uses: ['young engineers', 'ages 5 and up'],
      }),
    ],
  },
  {
    category: 'Garden & Tools',
    brands: ['Greenthumb', 'Rootwell', 'Forge & Fern', 'Yardmaster', 'Terrafirm', 'Boxwood'],
    adjectives: ['heavy-duty', 'professional'],
    uses: ['weekend projects', 'home and garden upkeep'],
    items: [
      one('drill driver', 129, {
        adjectives: ['cordless', 'brushless', 'compact'],
        materials: ['glass-filled nylon', 'magnesium'],
        features: ['an 18 V brushless motor', 'two 2 Ah batteries', 'a 13 mm keyless chuck', 'a built-in LED work light'],
        uses: ['home repairs', 'flat-pack assembly', 'DIY projects'],
      }),
      one('garden hose', 39, {
        adjectives: ['expandable', 'kink-free', 'lightweight'],
        materials: ['natural latex', 'reinforced PVC'],
        features: ['a 30-metre length', 'a 10-pattern spray nozzle', 'brass quick-connect fittings'],
        uses: ['vegetable gardens', 'washing the car', 'hanging baskets'],
      }),
      many('pruning shears', 29, {
        adjectives: ['bypass', 'ergonomic', 'rust-resistant'],
        materials: ['hardened carbon steel', 'SK5 steel'],
        features: ['a sap groove', 'a safety lock', 'comfort-grip handles'],
        uses: ['roses and shrubs', 'fruit trees'],
      }),
      one('lawn mower', 399, {
        adjectives: ['cordless', 'self-propelled', 'mulching'],
        materials: ['pressed steel', 'impact-resistant polypropylene'],
        features: ['a 40 cm cutting width', 'a 50-litre grass box', 'seven cutting heights', 'a 36 V battery'],
        uses: ['medium lawns', 'large lawns'],
      }),
      one('raised garden bed', 119, {
        adjectives: ['modular', 'rot-resistant', 'elevated'],
        materials: ['cedar wood', 'galvanised steel'],
        features: ['a drainage liner', 'a 300-litre capacity', 'tool-free assembly'],
        uses: ['vegetable gardens', 'balcony planting', 'herb growing'],
      }),
      one('tool set', 89, {
        adjectives: ['108-piece', 'rust-resistant', 'complete'],
        materials: ['chrome vanadium steel'],
        features: ['a 72-tooth ratchet', 'a blow-moulded carry case', 'metric and imperial sockets'],
        uses: ['home repairs', 'car maintenance'],
      }),
      one('leaf blower', 149, {
        adjectives: ['cordless', 'lightweight', 'powerful'],
        materials: ['impact-resistant polypropylene'],
        features: ['a variable-speed trigger', 'an air speed of 200 km/h', 'a vacuum and mulch mode'],
        uses: ['autumn leaves', 'patios and driveways'],
      }),
      one('watering can', 25, {
        adjectives: ['long-spout', 'balanced', 'classic'],
        materials: ['galvanised steel', 'recycled plastic', 'copper'],
        features: ['a 9-litre capacity', 'a removable brass rose', 'a balanced handle'],
        uses: ['houseplants', 'seedlings', 'balcony planting'],
      }),
      one('wheelbarrow', 99, {
        adjectives: ['puncture-proof', 'two-wheeled', 'sturdy'],
        materials: ['galvanised steel', 'polyethylene'],
        features: ['a 100-litre tub', 'puncture-proof tyres', 'ergonomic handles'],
        uses: ['landscaping', 'moving soil and mulch'],
      }),
      one('hedge trimmer', 119, {
        adjectives: ['cordless', 'lightweight', 'dual-action'],
        materials: ['laser-cut hardened steel'],
        features: ['a 55 cm blade', 'a rotating rear handle', 'a 24 V battery'],
        uses: ['hedge maintenance', 'topiary'],
      }),
    ],
  },
  {
    category: 'Automotive',
    brands: ['Roadcraft', 'Gearline', 'Motorvia', 'Torqueon', 'Autowise', 'Milepost'],
    adjectives: ['reliable', 'quick-fit'],
    uses: ['daily commuting', 'long road trips'],
    items: [
      one('dash cam', 119, {
        adjectives: ['wide-angle', 'discreet', 'night-vision'],
        materials: ['impact-resistant ABS'],
        features: ['1440p recording', 'loop recording with a G-sensor', 'a parking mode', 'built-in GPS'],
        uses: ['insurance peace of mind', 'ride-share drivers'],
      }),
      one('handheld car vacuum', 59, {
        adjectives: ['cordless', 'powerful', 'lightweight'],
        materials: ['impact-resistant ABS'],
        features: ['a 120 W motor', 'a washable HEPA filter', 'a crevice tool', 'USB-C charging'],
        uses: ['crumbs and pet hair', 'weekend detailing'],
      }),
      one('jump starter', 99, {
        adjectives: ['portable', 'rechargeable', 'compact'],
        materials: ['impact-resistant ABS'],
        features: ['a 2000 A peak current', 'reverse-polarity protection', 'a built-in torch', 'USB power-bank outputs'],
        uses: ['winter breakdowns', 'flat batteries'],
      }),
      one('tyre inflator', 49, {
        adjectives: ['cordless', 'digital', 'portable'],
        materials: ['aluminium', 'impact-resistant ABS'],
        features: ['automatic shut-off at the target pressure', 'a backlit digital gauge', 'adapters for bikes and balls'],
        uses: ['monthly tyre checks', 'road trips'],
      }),
      many('seat covers', 79, {
        adjectives: ['waterproof', 'universal-fit', 'airbag-compatible'],
        materials: ['faux leather', 'neoprene', 'breathable mesh'],
        features: ['airbag-compatible side seams', 'non-slip backing', 'easy-clean surfaces'],
        uses: ['family SUVs', 'pets and kids', 'muddy outdoor trips'],
      }),
      one('phone mount', 25, {
        adjectives: ['magnetic', 'one-handed', 'vibration-free'],
        materials: ['aluminium', 'silicone'],
        features: ['a magnetic quick-release', '15 W wireless charging', 'a 360-degree swivel'],
        uses: ['navigation', 'ride-share drivers'],
      }),
      one('roof box', 399, {
        adjectives: ['aerodynamic', 'lockable', 'spacious'],
        materials: ['UV-stabilised ABS'],
        features: ['a 420-litre capacity', 'dual-side opening', 'central locking', 'quick-mount clamps'],
        uses: ['ski trips', 'family holidays', 'camping road trips'],
      }),
      many('floor mats', 69, {
        adjectives: ['all-weather', 'custom-fit', 'waterproof'],
        materials: ['TPE rubber', 'heavy-duty rubber'],
        features: ['raised edges that trap water and mud', 'a custom-moulded fit', 'anti-slip nibs'],
        uses: ['muddy winters', 'family cars'],
      }),
      many('LED headlight bulbs', 45, {
        adjectives: ['bright', 'long-life', 'plug-and-play'],
        materials: ['aviation aluminium'],
        features: ['6000 K daylight-white output', 'a built-in cooling fan', 'CAN-bus compatibility'],
        uses: ['night driving', 'country roads'],
      }),
      one('car cover', 89, {
        adjectives: ['weatherproof', 'breathable', 'UV-resistant'],
        materials: ['UV-stabilised polyester', 'multi-layer fabric'],
        features: ['elastic hems', 'a soft inner lining', 'lockable straps', 'a storage bag'],
        uses: ['outdoor parking', 'classic cars', 'hail season'],
      }),
    ],
  },
  {
    category: 'Pet Supplies',
    brands: ['Pawsome', 'Whisker & Wag', 'Furrytale', 'Barkley Bros.', 'Petlane', 'Good Boy Goods'],
    adjectives: ['durable', 'vet-approved'],
    uses: ['happy pets', 'pets of all sizes'],
    items: [
      one('dog bed', 79, {
        adjectives: ['orthopedic', 'washable', 'calming'],
        materials: ['memory foam', 'recycled fleece', 'faux fur'],
        features: ['a removable washable cover', 'a bolstered edge to rest on', 'a non-slip base'],
        uses: ['large dogs', 'senior pets', 'anxious puppies'],
      }),
      one('cat tree', 99, {
        adjectives: ['multi-level', 'sturdy', 'space-saving'],
        materials: ['sisal rope', 'plush fabric', 'engineered wood'],
        features: ['sisal-wrapped scratching posts', 'a hideaway condo', 'a top perch', 'dangling toys'],
        uses: ['indoor cats', 'multi-cat homes'],
      }),
      one('dog harness', 35, {
        adjectives: ['no-pull', 'reflective', 'adjustable'],
        materials: ['durable nylon', 'breathable mesh'],
        features: ['a no-pull front clip', 'reflective stitching for night walks', 'a padded chest plate', 'a grab handle'],
        uses: ['daily walks', 'strong pullers', 'hiking with dogs'],
      }),
      one('automatic feeder', 69, {
        adjectives: ['programmable', 'app-controlled', 'anti-jam'],
        materials: ['stainless steel', 'BPA-free plastic'],
        features: ['a programmable feeding schedule', 'a 4-litre food hopper', 'voice recording', 'battery backup'],
        uses: ['busy owners', 'portion control', 'weekends away'],
      }),
      one('litter box', 45, {
        adjectives: ['self-cleaning', 'hooded', 'odour-sealing'],
        materials: ['BPA-free plastic'],
        features: ['odour-control technology', 'a charcoal filter', 'a scoop and liners'],
        uses: ['indoor cats', 'multi-cat homes', 'small apartments'],
      }),
      many('chew toys', 15, {
        adjectives: ['chew-resistant', 'treat-dispensing', 'floating'],
        materials: ['natural rubber', 'tough nylon'],
        features: ['a treat-dispensing centre', 'dental ridges', 'a floating design'],
        uses: ['aggressive chewers', 'teething puppies', 'boredom busting'],
      }),
      one('dog leash', 22, {
        adjectives: ['reflective', 'hands-free', 'retractable'],
        materials: ['durable nylon', 'braided rope', 'full-grain leather'],
        features: ['a padded handle', 'a traffic handle', 'reflective stitching for night walks'],
        uses: ['daily walks', 'jogging with dogs'],
      }),
      one('pet carrier', 59, {
        adjectives: ['airline-approved', 'ventilated', 'expandable'],
        materials: ['durable nylon', 'ventilated mesh'],
        features: ['ventilated mesh panels', 'a fleece pad', 'a seatbelt strap', 'a padded shoulder strap'],
        uses: ['vet visits', 'travel with pets', 'flights'],
      }),
      one('grooming brush', 17, {
        adjectives: ['self-cleaning', 'gentle', 'de-shedding'],
        materials: ['stainless steel', 'bamboo'],
        features: ['a one-click hair release button', 'rounded pins', 'a comfort-grip handle'],
        uses: ['long-haired cats', 'shedding season'],
      }),
      one('60-litre aquarium', 129, {
        adjectives: ['LED-lit', 'beginner-friendly', 'rimless'],
        materials: ['low-iron glass'],
        features: ['a built-in filter', 'adjustable LED lighting', 'a glass lid', 'a quiet air pump'],
        uses: ['tropical fish', 'first-time fishkeepers'],
      }),
    ],
  },
];

/** The categories generated products fall into. */
export const PRODUCT_CATEGORIES: readonly string[] = VOCABULARY.map((v) => v.category);

const SERIES = ['Pro', 'Lite', 'Max', 'Plus', 'Elite', 'X2', '2.0', 'Mk II', 'Sport', 'Classic', 'Edge', 'Air'];
const COLOURS = ['black', 'slate grey', 'navy', 'olive', 'sand', 'white', 'burgundy', 'forest green', 'charcoal', 'terracotta'];

/** Words a sentence needs to agree with the product's grammatical number. */
interface Subject {
  this: string;
  it: string;
  is: string;
  /** Verb ending: "features" for one, "feature" for many. */
  s: string;
}

/** What the sentence templates fill in; every field is already chosen, so templates only arrange words. */
interface Slots {
  brand: string;
  adjective: string;
  material: string;
  noun: string;
  /** Three different features: the opening may name the first, the details the other two. */
  feature: string;
  feature2: string;
  feature3: string;
  use: string;
  use2: string;
  colour: string;
  colour2: string;
  years: number;
  subject: Subject;
}

const OPENINGS: ReadonlyArray<(w: Slots) => string> = [
  (w) => `${w.subject.this} ${w.adjective} ${w.noun} ${w.subject.is} made with ${w.material} and built for ${w.use}.`,
  (w) => `Designed for ${w.use}, ${w.subject.this} ${w.noun} from ${w.brand} combine${w.subject.s} ${w.material} with ${w.feature}.`,
  (w) => `${w.brand} makes ${w.subject.this} ${w.adjective} ${w.noun} with ${w.material} for ${w.use}.`,
  (w) => `Meet the ${w.brand} ${w.noun}: ${w.adjective}, made with ${w.material}, and ready for ${w.use}.`,
  (w) => `${capitalise(w.adjective)} and made with ${w.material}, ${w.subject.this} ${w.noun} ${w.subject.is} a favourite for ${w.use}.`,
];

const DETAILS: ReadonlyArray<(w: Slots) => string> = [
  (w) => `${capitalise(w.subject.it)} feature${w.subject.s} ${w.feature2} and ${w.feature3}.`,
  (w) => `Highlights include ${w.feature2} and ${w.feature3}.`,
  (w) => `Expect ${w.feature2}, plus ${w.feature3}.`,
  (w) => `${capitalise(w.subject.it)} also come${w.subject.s} with ${w.feature2}.`,
];

const CLOSINGS: ReadonlyArray<(w: Slots) => string> = [
  (w) => `A dependable choice for ${w.use2}.`,
  (w) => `Backed by a ${w.years}-year warranty.`,
  (w) => `Available in ${w.colour} and ${w.colour2}.`,
  (w) => `Customers love ${w.subject.it === 'it' ? 'it' : 'them'} for ${w.use2}.`,
  (w) => `Ships in plastic-free packaging and comes in ${w.colour}.`,
];

/**
 * One deterministic product.
 *
 * @param seed Dataset seed, an integer from 0 to {@link MAX_SEED_OR_INDEX}.
 * @param index Position in the dataset, an integer from 0 to {@link MAX_SEED_OR_INDEX}; for a given seed,
 *   different indices always get different ids.
 * @throws RangeError when seed or index is not such an integer.
 */
export function generateProduct(seed: number, index: number): GeneratedProduct {
  assertUint32('seed', seed);
  assertUint32('index', index);
  const random = mulberry32(fmix32((fmix32(seed ^ 0x5bd1e995) + Math.imul(index, 0x9e3779b1)) >>> 0));
  // The first uuid word is a bijection of the index (for a given seed), so ids never collide within a
  // dataset however large; the other words only need to look random.
  const id = formatUuidV4(fmix32((index ^ fmix32((seed + 0x7f4a7c15) >>> 0)) >>> 0), random.uint32(), random.uint32(), random.uint32());

  const vocabulary = pick(random, VOCABULARY);
  const item = pick(random, vocabulary.items);
  const [adjective, adjective2] = pickDistinct(random, [...item.adjectives, ...vocabulary.adjectives], 2);
  const [feature, feature2, feature3] = pickDistinct(random, item.features, 3);
  const [use, use2] = pickDistinct(random, [...item.uses, ...vocabulary.uses], 2);
  const [colour, colour2] = pickDistinct(random, COLOURS, 2);
  const slots: Slots = {
    brand: pick(random, vocabulary.brands),
    adjective,
    material: pick(random, item.materials),
    noun: item.noun,
    feature,
    feature2,
    feature3,
    use,
    use2,
    colour,
    colour2,
    years: 1 + Math.floor(random.next() * 5),
    subject: item.plural ? { this: 'these', it: 'they', is: 'are', s: '' } : { this: 'this', it: 'it', is: 'is', s: 's' },
  };

  const name = productName([
    slots.brand,
    random.next() < 0.75 ? titleCase(adjective2) : undefined,
    random.next() < 0.45 ? titleCase(slots.material) : undefined,
    titleCase(item.noun),
    random.next() < 0.35 ? pick(random, SERIES) : undefined,
  ]);

  const sentenceCount = weighted(random, [0.2, 0.45, 0.35]) + 1;
  const sentences = [capitalise(pick(random, OPENINGS)(slots))];
  if (sentenceCount >= 2) sentences.push(pick(random, DETAILS)(slots));
  if (sentenceCount >= 3) sentences.push(pick(random, CLOSINGS)(slots));

  return {
    id,
    name,
    description: sentences.join(' '),
    category: vocabulary.category,
    price: price(random, item.basePrice),
    createdAt: createdAt(random),
  };
}

/**
 * `count` consecutive products starting at `start`, generated lazily so that a large dataset never sits in
 * memory at once. `generateProducts(seed, 0, 10)` and `generateProducts(seed, 5, 5)` agree on indices 5 to 9.
 *
 * @throws RangeError when start or count is not a non-negative integer or the range passes {@link MAX_SEED_OR_INDEX}.
 */
export function* generateProducts(seed: number, start: number, count: number): Generator<GeneratedProduct, void, undefined> {
  assertUint32('start', start);
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, but it is ${count}.`);
  if (count > 0) assertUint32('start + count - 1', start + count - 1);
  for (let index = start; index < start + count; index++) yield generateProduct(seed, index);
}

/**
 * Joins the chosen name parts, leaving out an optional part that would repeat a word of another, which
 * reads badly ("Vegan Vegan Leather Sandals", "EVA Foam Foam Roller"). Brand and noun are always kept.
 */
function productName(parts: ReadonlyArray<string | undefined>): string {
  const wordsOf = (part: string) => part.toLowerCase().split(/[\s-]+/);
  const brand = parts[0]!;
  const noun = parts[3]!;
  const used = new Set([...wordsOf(brand), ...wordsOf(noun)]);
  const kept = parts.map((part, i) => {
    if (part === undefined || part === brand || part === noun) return part;
    if (wordsOf(part).some((word) => used.has(word))) return undefined;
    for (const word of wordsOf(part)) used.add(word);
    return part;
  });
  return kept.filter((part): part is string => part !== undefined).join(' ');
}

/** Prices vary around the item's typical price and end the way shop prices do (.99, .95, .49 or .00). */
function price(random: Random, basePrice: number): number {
  const raw = basePrice * Math.exp((random.next() - 0.5) * 0.9);
  const cents = [99, 99, 99, 95, 49, 0][Math.floor(random.next() * 6)];
  const whole = Math.max(cents === 0 ? 1 : 0, Math.floor(raw));
  return Math.round(whole * 100 + cents) / 100;
}

/** Skewed towards recent dates, as a growing catalogue adds more products each year than the year before. */
function createdAt(random: Random): Date {
  const age = Math.pow(random.next(), 1.4) * CREATED_AT_SPAN_MS;
  return new Date(Math.floor((REFERENCE_DATE.getTime() - age) / 1000) * 1000);
}

/** mulberry32: tiny, fast and good enough for test data; not for anything security-related. */
interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  uint32(): number;
}

function mulberry32(state: number): Random {
  const uint32 = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return { uint32, next: () => uint32() / 0x1_0000_0000 };
}

/** MurmurHash3's finaliser: a bijection on 32-bit integers that spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Formats four 32-bit words as a uuid with the version-4 and RFC 4122 variant bits set. */
function formatUuidV4(w0: number, w1: number, w2: number, w3: number): string {
  const hex = (w: number) => (w >>> 0).toString(16).padStart(8, '0');
  const h = hex(w0) + hex(((w1 & 0xffff0fff) | 0x00004000) >>> 0) + hex(((w2 & 0x3fffffff) | 0x80000000) >>> 0) + hex(w3);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function pick<T>(random: Random, values: readonly T[]): T {
  return values[Math.floor(random.next() * values.length)];
}

/** `count` different elements (a partial Fisher-Yates shuffle), so a sentence never names the same thing twice. */
function pickDistinct<T>(random: Random, values: readonly T[], count: number): T[] {
  const pool = [...values];
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random.next() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, count);
}

/** Index drawn with the given weights (which sum to 1). */
function weighted(random: Random, weights: readonly number[]): number {
  let r = random.next();
  for (let i = 0; i < weights.length - 1; i++) {
    if (r < weights[i]) return i;
    r -= weights[i];
  }
  return weights.length - 1;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Capitalises each word and hyphenated part, leaving the rest alone so that "USB-C" and "4K" survive. */
function titleCase(text: string): string {
  return text.replace(/(^|[\s-])(\p{Ll})/gu, (_, separator: string, letter: string) => separator + letter.toUpperCase());
}

function assertUint32(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_SEED_OR_INDEX) {
    throw new RangeError(`${what} must be an integer from 0 to ${MAX_SEED_OR_INDEX}, but it is ${value}.`);
  }
}
