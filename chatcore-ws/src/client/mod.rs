pub struct Client; pub struct ClientError; pub struct Connect;
