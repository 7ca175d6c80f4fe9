//! Gazetteers for the name recognizer: general lists written from common
//! knowledge (frequent given names across many languages, countries, large
//! cities and regions, well-known organisations), sorted for binary search
//! (a test keeps them sorted). Not taken from any evaluation corpus.

/// Given names common in many countries.
#[rustfmt::skip]
pub(crate) const FIRST_NAMES: &[&str] = &[
    "Aaron", "Abdul", "Abigail", "Adam", "Adrian", "Ahmed", "Aisha", "Alan", "Albert", "Alejandro",
    "Alex", "Alexander", "Alexandra", "Ali", "Alice", "Alicia", "Amanda", "Amelia", "Amir", "Amit",
    "Amy", "Ana", "Andrea", "Andreas", "Andrew", "Andrzej", "Angela", "Anil", "Anita", "Ann",
    "Anna", "Anne", "Anthony", "Antoine", "Antonio", "Arjun", "Arthur", "Ashley", "Aya", "Barbara",
    "Beatriz", "Ben", "Benjamin", "Bernard", "Brian", "Bruno", "Camille", "Carla", "Carlos",
    "Carmen", "Caroline", "Catherine", "Charles", "Charlotte", "Chen", "Chloe", "Chloé", "Chris",
    "Christian", "Christina", "Christopher", "Claire", "Claudia", "Daniel", "Daniela", "David",
    "Deborah", "Deepak", "Diana", "Diego", "Dmitri", "Dominik", "Donald", "Dorothy", "Edward",
    "Elena", "Elif", "Elizabeth", "Ella", "Emily", "Emma", "Emmanuel", "Eric", "Erik", "Eva",
    "Fatima", "Felix", "Fernando", "Francesca", "Francesco", "Francisco", "Frank", "Gabriel",
    "Gabriela", "Georg", "George", "Gerald", "Giovanni", "Giulia", "Grace", "Greta", "Hana",
    "Hannah", "Hans", "Harry", "Hassan", "Helen", "Helena", "Henrik", "Henry", "Hiroshi", "Hugo",
    "Ibrahim", "Ingrid", "Irina", "Isabel", "Isabella", "Ivan", "Jack", "Jacob", "James", "Jan",
    "Jane", "Javier", "Jean", "Jennifer", "Jessica", "Joan", "Joanna", "Johann", "John", "Jonas",
    "Jonathan", "Jorge", "Jose", "Joseph", "Joshua", "José", "Juan", "Julia", "Julian", "Julie",
    "Karen", "Karim", "Katarzyna", "Kate", "Katherine", "Kenji", "Kevin", "Kim", "Klaus",
    "Krzysztof", "Laura", "Lauren", "Leila", "Lena", "Leon", "Liam", "Lin", "Linda", "Lisa",
    "Lucas", "Lucia", "Luis", "Luka", "Lukas", "Magdalena", "Mai", "Marco", "Margaret", "Maria",
    "Marie", "Mario", "Mark", "Marta", "Martin", "Mary", "María", "Mateo", "Matteo", "Matthew",
    "Mehmet", "Mei", "Michael", "Michelle", "Miguel", "Mohamed", "Mohammed", "Monica", "Nadia",
    "Natalia", "Nathan", "Nicolas", "Nicole", "Nikolai", "Noah", "Nora", "Oliver", "Olivia",
    "Olumide", "Omar", "Oscar", "Pablo", "Patricia", "Patrick", "Paul", "Paula", "Pedro", "Peter",
    "Philippe", "Pierre", "Piotr", "Priya", "Rafael", "Rahul", "Raj", "Rebecca", "Richard",
    "Robert", "Roberto", "Rosa", "Ryan", "Sakura", "Samuel", "Sandra", "Sara", "Sarah", "Satoshi",
    "Sebastian", "Sergei", "Simon", "Sofia", "Sophie", "Stefan", "Stephanie", "Steven", "Susan",
    "Sven", "Takeshi", "Tatiana", "Thomas", "Timothy", "Tom", "Tomasz", "Valentina", "Vanessa",
    "Victor", "Victoria", "Vikram", "Wei", "William", "Xavier", "Yasmin", "Yuki", "Yusuf",
    "Zainab", "Zoe",
];

/// Countries, regions and large cities (multi-word entries with one space).
#[rustfmt::skip]
pub(crate) const PLACES: &[&str] = &[
    "Abu Dhabi", "Abuja", "Accra", "Addis Ababa", "Adelaide", "Afghanistan", "Alabama", "Alaska",
    "Albania", "Algeria", "Amsterdam", "Andalusia", "Ankara", "Antwerp", "Argentina", "Arizona",
    "Asunción", "Athens", "Atlanta", "Auckland", "Austin", "Australia", "Austria", "Baghdad",
    "Bangalore", "Bangkok", "Bangladesh", "Barcelona", "Bavaria", "Beijing", "Beirut", "Belgium",
    "Belgrade", "Berlin", "Bern", "Bogotá", "Bolivia", "Bordeaux", "Boston", "Bratislava",
    "Brazil", "Brisbane", "Bristol", "Brussels", "Bucharest", "Budapest", "Buenos Aires",
    "Bulgaria", "Busan", "Cairo", "Calgary", "Cali", "California", "Cambodia", "Cameroon",
    "Canada", "Cancún", "Cape Town", "Caracas", "Casablanca", "Chennai", "Chicago", "Chile",
    "China", "Colombia", "Colorado", "Copenhagen", "Croatia", "Cuba", "Cyprus", "Czechia", "Dakar",
    "Dallas", "Delhi", "Denmark", "Denver", "Detroit", "Dhaka", "Doha", "Dubai", "Dublin",
    "Durban", "Düsseldorf", "Ecuador", "Edinburgh", "Egypt", "England", "Estonia", "Ethiopia",
    "Finland", "Florence", "Florida", "France", "Frankfurt", "Gdańsk", "Geneva", "Georgia",
    "Germany", "Ghana", "Ghent", "Glasgow", "Gothenburg", "Greece", "Guadalajara", "Guangzhou",
    "Guatemala", "Hamburg", "Hamilton", "Hanoi", "Harare", "Havana", "Helsinki", "Hong Kong",
    "Houston", "Hungary", "Hyderabad", "Iceland", "Illinois", "India", "Indonesia", "Iran", "Iraq",
    "Ireland", "Israel", "Istanbul", "Italy", "Jakarta", "Jamaica", "Japan", "Jordan", "Kampala",
    "Karachi", "Kazakhstan", "Kenya", "Kigali", "Kinshasa", "Kolkata", "Kraków", "Kuwait", "Kyiv",
    "Kyoto", "La Paz", "Lagos", "Lahore", "Lebanon", "Leeds", "Lima", "Lisbon", "Lithuania",
    "Liverpool", "London", "Los Angeles", "Luanda", "Lusaka", "Luxembourg", "Lyon", "Madrid",
    "Malaysia", "Malmö", "Manchester", "Manila", "Maputo", "Marseille", "Massachusetts",
    "Medellín", "Melbourne", "Mexico", "Mexico City", "Miami", "Michigan", "Milan", "Minnesota",
    "Monterrey", "Montevideo", "Montreal", "Morocco", "Moscow", "Mumbai", "Munich", "Muscat",
    "Nagoya", "Nairobi", "Naples", "Netherlands", "New Delhi", "New Jersey", "New York",
    "New Zealand", "Nigeria", "Norway", "Ohio", "Ontario", "Oregon", "Osaka", "Oslo", "Ottawa",
    "Pakistan", "Paris", "Pennsylvania", "Perth", "Peru", "Philadelphia", "Philippines", "Phoenix",
    "Poland", "Porto", "Portugal", "Poznań", "Prague", "Puebla", "Pune", "Quebec", "Quito",
    "Rabat", "Reykjavik", "Riga", "Rio de Janeiro", "Riyadh", "Romania", "Rome", "Rotterdam",
    "Russia", "San Diego", "San Francisco", "Santiago", "Saudi Arabia", "Scotland", "Seattle",
    "Senegal", "Seoul", "Serbia", "Seville", "Shanghai", "Shenzhen", "Singapore", "Slovakia",
    "Slovenia", "South Africa", "South Korea", "Spain", "Stockholm", "Stuttgart", "Sweden",
    "Switzerland", "Sydney", "São Paulo", "Taipei", "Taiwan", "Tallinn", "Tanzania", "Tehran",
    "Tel Aviv", "Texas", "Thailand", "Tokyo", "Toronto", "Tunis", "Tunisia", "Turin", "Turkey",
    "Uganda", "Ukraine", "United Kingdom", "United States", "Uruguay", "Utah", "Valencia",
    "Vancouver", "Venezuela", "Venice", "Vienna", "Vietnam", "Vilnius", "Virginia", "Wales",
    "Warsaw", "Washington", "Wellington", "Wrocław", "Zagreb", "Zimbabwe", "Zurich", "Zürich",
    "Łódź",
];

/// Well-known organisations whose names are unambiguous as words.
#[rustfmt::skip]
pub(crate) const ORGS: &[&str] = &[
    "Accenture", "Adidas", "Airbus", "Alibaba", "Allianz", "Amazon", "Anthropic", "Apple Inc",
    "AstraZeneca", "Audi", "BASF", "BBC", "BMW", "BNP Paribas", "BP", "Barclays", "Bayer",
    "Boeing", "Bosch", "Chevron", "Cisco", "Citibank", "Citigroup", "Coca-Cola", "Dell",
    "Deloitte", "Deutsche Bank", "Deutsche Telekom", "Ericsson", "ExxonMobil", "Facebook", "FedEx",
    "Ferrari", "Ford", "Goldman Sachs", "Google", "HSBC", "Huawei", "Hyundai", "IBM", "IKEA",
    "Infosys", "Intel", "JPMorgan", "KPMG", "Lufthansa", "McKinsey", "Mercedes-Benz", "Microsoft",
    "Mitsubishi", "Morgan Stanley", "NASA", "NATO", "Nestlé", "Netflix", "Nike", "Nintendo",
    "Nokia", "Novartis", "Nvidia", "OpenAI", "Oracle", "Panasonic", "PayPal", "PepsiCo", "Pfizer",
    "Philips", "PwC", "Renault", "Roche", "SAP", "Salesforce", "Samsung", "Santander", "Shell",
    "Siemens", "Sony", "Spotify", "Tata", "Tesla", "Toyota", "UBS", "UNESCO", "UNICEF", "Uber",
    "Unilever", "Visa", "Vodafone", "Volkswagen", "Walmart", "Wipro", "Zara",
];

#[cfg(test)]
mod tests {
    #[test]
    fn sorted_for_binary_search() {
        for list in [super::FIRST_NAMES, super::PLACES, super::ORGS] {
            assert!(
                list.windows(2).all(|w| w[0] < w[1]),
                "{:?}",
                list.windows(2).find(|w| w[0] >= w[1])
            );
        }
    }
}
